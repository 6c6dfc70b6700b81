"""People on a CalDAV server, for the tests: their client's edits made over HTTP, out of band.

A person's event is written the way ``scheduler.clientedits`` writes it into a vdir folder, then
PUT to their calendar; an edit of an object GETs it, edits it as the client would and PUTs it
back with ``If-Match``. I/O: HTTP to the test's server; a scratch folder for the edits.

Exports: DavPeople.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urljoin

from scheduler.providers.vdir import uid_filename
from tests.caldav.servers import DavServer

__all__ = ["DavPeople"]


class DavPeople:
    """``user``'s calendar at ``url`` on ``server``, edited as their client edits it."""

    def __init__(self, server: DavServer, user: str, url: str, scratch: Path) -> None:
        self.server = server
        self.user = user
        self.url = url.rstrip("/") + "/"
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)

    def href(self, uid: str) -> str:
        return urljoin(self.url, uid_filename(uid))

    def put_file(self, path: Path, *, name: str | None = None) -> None:
        """The object in ``path`` stored in the calendar (as a new object, or over the old)."""
        target = urljoin(self.url, name or path.name)
        with self.server.session(self.user) as session:
            answer = session.put(
                target,
                data=path.read_bytes(),
                headers={"Content-Type": "text/calendar; charset=utf-8"},
            )
        assert answer.status_code in (200, 201, 204), (answer.status_code, answer.text)
        path.unlink()

    def get(self, uid: str) -> tuple[bytes, str] | None:
        with self.server.session(self.user) as session:
            answer = session.get(self.href(uid))
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.status_code
        return answer.content or b"", str(answer.headers.get("ETag", ""))

    def edit(self, uid: str, change: Callable[[Path], None]) -> None:
        """GET ``uid``'s object, ``change`` it as a file, PUT it back on its ETag."""
        found = self.get(uid)
        assert found is not None, uid
        data, etag = found
        path = self.scratch / uid_filename(uid)
        path.write_bytes(data)
        change(path)
        with self.server.session(self.user) as session:
            answer = session.put(
                self.href(uid),
                data=path.read_bytes(),
                headers={"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag},
            )
        assert answer.status_code in (200, 201, 204), (answer.status_code, answer.text)
        path.unlink()

    def delete(self, uid: str) -> None:
        with self.server.session(self.user) as session:
            answer = session.delete(self.href(uid))
        assert answer.status_code in (200, 204), answer.status_code

    def listing(self) -> dict[str, bytes]:
        """Every object in the calendar by name, as a client syncing it sees them."""
        return {name: data for name, (_, data) in self.listing_with_etags().items()}

    def listing_with_etags(self) -> dict[str, tuple[str, bytes]]:
        """Every object in the calendar by name: its ETag and its bytes."""
        body = (
            '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>'
            '</D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
        )
        from lxml import etree

        with self.server.session(self.user) as session:
            answer = session.request(
                "REPORT",
                self.url,
                data=body.encode(),
                headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            )
        assert answer.status_code == 207, answer.status_code
        found: dict[str, tuple[str, bytes]] = {}
        for response in etree.fromstring(answer.content or b"").iter("{DAV:}response"):
            href = response.findtext("{DAV:}href") or ""
            etag = response.findtext(".//{DAV:}getetag") or ""
            data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data")
            if data:
                name = unquote(href.rstrip("/").rsplit("/", 1)[-1])
                found[name] = (etag, data.encode("utf-8"))
        return found

"""Microsoft 365 calendars (Outlook / Exchange Online) through Microsoft Graph v1.0.

- ``auth``: app-only sign-in with client credentials through ``msal`` (secret from the
  variable named by ``[microsoft365] client_secret_env``, or a certificate).
- ``client``: httpx, retries honouring ``Retry-After``, JSON ``$batch``, errors in plain words.
- ``events``: Graph event resources to and from the product's values (pure).
- ``zones``: Windows time-zone names to IANA ones (CLDR's table, as ``tzlocal`` ships it).
- ``provider``: ``Microsoft365Provider`` and the per-process ``Microsoft365Session``.

``session_for(org, store)`` gives the org's session, kept for the life of the process so a
daemon keeps its token, connections and delta state from pass to pass.

Exports: session_for, forget_sessions, requests_per_mailbox.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.orgfile import Org
    from scheduler.providers.microsoft365.provider import Microsoft365Session, StateStore

__all__ = ["forget_sessions", "requests_per_mailbox", "session_for"]

_SESSIONS: dict[tuple[Any, ...], Microsoft365Session] = {}


def session_for(org: Org, store: StateStore | None) -> Microsoft365Session:
    """The Microsoft 365 session of ``org`` for this process (people and organizers
    refreshed)."""
    from scheduler.providers.microsoft365.auth import token_source
    from scheduler.providers.microsoft365.client import GraphClient
    from scheduler.providers.microsoft365.provider import Microsoft365Session

    key = (str(org.path), org.database_url, org.microsoft365)
    settings = org.microsoft365
    people = {
        email: person
        for email, person in org.people.items()
        if org.calendars[email].provider == "microsoft365"
    }
    session = _SESSIONS.get(key)
    if session is None:
        client = GraphClient(
            token_source(settings),
            settings.graph_url,
            ca_file=str(settings.ca_file) if settings.ca_file else None,
            secret_env=settings.client_secret_env,
        )
        session = Microsoft365Session(client, people, (), store)
        _SESSIONS[key] = session
    session.people = people
    session.organizers = {p.manager.email for p in org.pairs if p.manager.email in people}
    session.pair_managers = {}
    session.foreign_managers = {}
    for pair in org.pairs:
        if pair.rep.email in people and pair.manager.email in people:
            session.pair_managers.setdefault(pair.rep.email, set()).add(pair.manager.email)
        elif pair.rep.email in people:
            session.foreign_managers[pair.rep.email] = pair.manager.email
    return session


def requests_per_mailbox() -> Counter[str]:
    """HTTP requests sent so far by every session of this process, per mailbox."""
    total: Counter[str] = Counter()
    for session in _SESSIONS.values():
        total.update(session.client.requests)
    return total


def forget_sessions() -> None:
    """Drop every kept session and token (tests that start a fresh emulator)."""
    from scheduler.providers.microsoft365.auth import clear_cache

    for session in _SESSIONS.values():
        session.client.close()
    _SESSIONS.clear()
    clear_cache()

"""The editable agenda page over real HTTP: tick, add, note and whole-text saves, each made
only on the version read; a crossing save refused with both texts; every version kept; the
read-back after the 1:1 carries what was added in the page into the next agenda."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from scheduler.agenda.editor import version_of
from tests.web.conftest import ANA, MARCO, Quarter

DAY = "2027-01-05"


def form_of(page: str) -> dict[str, list[str]]:
    """The items form's fields as the page has them (hidden items, ticked boxes)."""
    items_form = page[page.index('id="items-form"') : page.index("</form>")]
    fields: dict[str, list[str]] = {"form": ["items"]}
    fields["version"] = re.findall(r'name="version" value="([0-9a-f]+)"', items_form)[:1]
    fields["item"] = [
        html_unescape(v) for v in re.findall(r'name="item" value="([^"]*)"', items_form)
    ]
    fields["done"] = re.findall(r'name="done" value="(\d+)" checked', items_form)
    return fields


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def post(client: httpx.Client, url: str, fields: dict[str, list[str]]) -> httpx.Response:
    origin = str(client.base_url).rstrip("/")
    return client.post(url, data=fields, headers={"Origin": origin})


def test_the_page_is_an_editor_with_the_version_it_shows(
    quarter: Quarter, client: httpx.Client
) -> None:
    url = quarter.agenda_address(MARCO, ANA, DAY)
    page = client.get(url)
    assert page.status_code == 200
    text = quarter.agenda_path(MARCO, ANA, DAY).read_text()
    assert page.headers["etag"] == f'"{version_of(text)}"'
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert "script" not in csp and "unsafe-inline" not in csp
    assert 'id="items-form" method="post"' in page.text
    assert f'name="version" value="{version_of(text)}"' in page.text
    assert "<script" not in page.text
    # Named as people know each other (the dashboard does the same), not by address.
    assert f"<h1>1:1 agenda: Marco Rossi / Ana Alvarez, {DAY}</h1>" in page.text


def test_tick_add_and_note_are_saved_and_every_version_kept(
    quarter: Quarter, client: httpx.Client
) -> None:
    path = quarter.agenda_path(MARCO, ANA, DAY)
    url = quarter.agenda_address(MARCO, ANA, DAY)
    before = path.read_text()
    fields = form_of(client.get(url).text)
    fields["add"] = ["Send the Globex proposal", "Book a demo with Initech", ""]
    fields["note"] = ["Ana leads the Globex renewal."]
    saved = post(client, url, fields)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{url}?saved=2"
    after = path.read_text()
    assert "- [ ] Send the Globex proposal\n- [ ] Book a demo with Initech\n" in after
    assert after.rstrip().endswith("## Notes\n\nAna leads the Globex renewal.")
    # Everything else people and the product wrote is kept as it was.
    assert after.startswith(before.split("## Action items")[0])

    fields = form_of(client.get(url).text)
    assert fields["item"] == ["Send the Globex proposal", "Book a demo with Initech"]
    fields["done"] = ["0"]
    assert post(client, url, fields).status_code == 303
    assert "- [x] Send the Globex proposal" in path.read_text()
    page = client.get(f"{url}?saved=3").text
    assert "Saved: version 3" in page

    kept = quarter.ledger.agenda_versions(f"{MARCO}/{ANA}/{DAY}.md")
    assert [v.version for v in kept] == [1, 2, 3]
    assert kept[0].text == before and kept[0].source == "earlier"
    assert kept[-1].text == path.read_text() and kept[-1].source == "web"


def test_a_crossing_save_is_refused_with_both_texts_and_nothing_lost(
    quarter: Quarter, client: httpx.Client
) -> None:
    path = quarter.agenda_path(MARCO, ANA, DAY)
    url = quarter.agenda_address(MARCO, ANA, DAY)
    stale = form_of(client.get(url).text)  # Ana opens the page...
    first = form_of(client.get(url).text)  # ...and so does Marco, who saves first.
    first["add"] = ["Marco: call Hooli"]
    assert post(client, url, first).status_code == 303
    marcos = path.read_text()

    stale["add"] = ["Ana: send the deck"]
    refused = post(client, url, stale)
    assert refused.status_code == 409
    assert path.read_text() == marcos  # nothing overwritten
    page = refused.text
    assert "Someone saved this agenda after you opened it" in page
    theirs = page[page.index('id="theirs"') : page.index('id="yours"')]
    yours = page[page.index('id="yours"') : page.index('id="diff"')]
    assert "Marco: call Hooli" in theirs and "Ana: send the deck" not in theirs
    assert "Ana: send the deck" in yours
    merged = re.search(
        r'<textarea class="full" name="text" id="text"[^>]*>(.*?)</textarea>', page, re.S
    )
    assert merged is not None
    merged_text = html_unescape(merged.group(1))
    assert "- [ ] Marco: call Hooli" in merged_text and "- [ ] Ana: send the deck" in merged_text

    version = re.search(r'name="version" value="([0-9a-f]+)"', page)
    assert version is not None and version.group(1) == version_of(marcos)
    done = post(
        client, url, {"form": ["text"], "version": [version.group(1)], "text": [merged_text]}
    )
    assert done.status_code == 303
    assert path.read_text() == merged_text


def test_a_whole_text_save_on_an_old_version_is_refused_too(
    quarter: Quarter, client: httpx.Client
) -> None:
    path = quarter.agenda_path(MARCO, ANA, DAY)
    url = quarter.agenda_address(MARCO, ANA, DAY)
    old = version_of(path.read_text())
    # Someone edits the file itself (a text editor, a sync tool) meanwhile.
    path.write_text(path.read_text() + "\nEdited on disk.\n")
    answer = post(client, url, {"form": ["text"], "version": [old], "text": ["# mine\n"]})
    assert answer.status_code == 409
    assert path.read_text().endswith("Edited on disk.\n")
    assert "# mine" in answer.text
    # If-Match works for a client without the hidden field.
    current = version_of(path.read_text())
    answer = client.post(
        url,
        data={"form": "text", "text": "# mine\n"},
        headers={"If-Match": f'"{current}"', "Origin": str(client.base_url).rstrip("/")},
    )
    assert answer.status_code == 303
    assert path.read_text() == "# mine\n"


def test_cross_site_posts_bad_forms_and_oversized_bodies_are_refused(
    quarter: Quarter, client: httpx.Client
) -> None:
    path = quarter.agenda_path(MARCO, ANA, DAY)
    url = quarter.agenda_address(MARCO, ANA, DAY)
    text = path.read_text()
    fields = {"form": ["text"], "version": [version_of(text)], "text": ["hijacked"]}
    evil = client.post(url, data=fields, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    cross = client.post(url, data=fields, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    as_json = client.post(url, json=fields, headers={"Origin": str(client.base_url).rstrip("/")})
    assert as_json.status_code == 415
    huge = {"form": ["text"], "version": [version_of(text)], "text": ["x" * (3 * 1024 * 1024)]}
    assert post(client, url, huge).status_code == 413
    too_big_doc = {"form": ["text"], "version": [version_of(text)], "text": ["x" * (1100 * 1024)]}
    assert post(client, url, too_big_doc).status_code == 413
    no_version = post(client, url, {"form": ["text"], "text": ["x"]})
    assert no_version.status_code == 400
    wrong_token = url.replace(url.split("/")[2], "0" * 32)
    assert post(client, wrong_token, fields).status_code == 404
    assert path.read_text() == text


def test_the_next_agenda_carries_an_item_added_in_the_page(
    quarter: Quarter, client: httpx.Client
) -> None:
    url = quarter.agenda_address(MARCO, ANA, DAY)
    fields = form_of(client.get(url).text)
    fields["add"] = ["Book a demo with Initech"]
    assert post(client, url, fields).status_code == 303
    # The 1:1 takes place; a week later the pass writes the next agenda.
    quarter.run_until(quarter.now + timedelta(days=7))
    docs = quarter.ledger.agenda_docs([f"{MARCO}/{ANA}"])[f"{MARCO}/{ANA}"]
    following = [day for day in docs if day > DAY]
    assert following, docs
    text = quarter.agenda_path(MARCO, ANA, following[0]).read_text()
    assert "- [ ] Book a demo with Initech" in text
    items = quarter.ledger.action_items([f"{MARCO}/{ANA}"])[f"{MARCO}/{ANA}"]
    assert [i.text for i in items.values() if i.state == "open"] == ["Book a demo with Initech"]


def test_root_is_a_short_page_with_no_data(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "oneonone" in page.text and "@acme.example" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    css = client.get("/static/oneonone.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_a_pair_on_google_gets_a_page_linking_its_doc(
    quarter: Quarter, client: httpx.Client
) -> None:
    from dataclasses import replace

    from scheduler import feeds

    key = f"{MARCO}/{ANA}"
    doc = quarter.ledger.agenda_docs([key])[key][DAY]
    google = "https://docs.google.com/document/d/abc123/edit"
    quarter.ledger.save_agenda_doc(
        replace(doc, session_date="2027-01-19", week="2027-W03", url=google)
    )
    token = feeds.agenda_token(quarter.ledger, MARCO, ANA, "2027-01-19")
    page = client.get(f"/agendas/{token}/{MARCO}/{ANA}/2027-01-19")
    assert page.status_code == 200
    assert f'href="{google}"' in page.text and "Google Doc" in page.text
    assert (
        client.post(f"/agendas/{token}/{MARCO}/{ANA}/2027-01-19", data={"form": "text"}).status_code
        == 405
    )


def test_every_kept_version_can_be_read_back_from_the_page(
    quarter: Quarter, client: httpx.Client
) -> None:
    path = quarter.agenda_path(MARCO, ANA, DAY)
    url = quarter.agenda_address(MARCO, ANA, DAY)
    original = path.read_text()
    fields = form_of(client.get(url).text)
    fields["add"] = ["Send the Globex proposal"]
    assert post(client, url, fields).status_code == 303
    page = client.get(url).text
    assert "2 saved versions kept" in page
    assert f'href="{url}?version=1"' in page and "EST" in page
    first = client.get(f"{url}?version=1")
    assert first.status_code == 200
    assert html_unescape(first.text.split('<pre id="version-text">')[1].split("</pre>")[0]) == (
        original
    )
    assert "Send the Globex proposal" in client.get(f"{url}?version=2").text
    assert client.get(f"{url}?version=3").status_code == 404

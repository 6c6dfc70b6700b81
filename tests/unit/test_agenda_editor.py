"""The agenda page's editor: what a save does to a document's text (pure), and the
compare-and-swap of a document kept in the database (the replicas' case)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.agenda.documents import AgendaDocument
from scheduler.agenda.editor import Edit, apply_edit, line_diff, version_of
from scheduler.store.ledger import Ledger

AGENDA = """# 1:1 Marco / Ana

## Wins this week

Closed Acme.

## Action items

_Tick what is done._

- [ ] Send the Globex proposal
- [x] Call Hooli
"""
# The empty box the template leaves for a new item (its trailing space matters).
AGENDA += "- [ ] \n\n[Previous agenda](https://x.example/a)\n"


def test_ticks_find_items_by_their_words_and_touch_nothing_else() -> None:
    edit = Edit(seen=("Send the Globex proposal", "Call Hooli"), ticked=frozenset({0}))
    after = apply_edit(AGENDA, edit)
    assert "- [x] Send the Globex proposal\n- [ ] Call Hooli\n" in after
    assert after.replace("[x] Send", "[ ] Send").replace("[ ] Call", "[x] Call") == AGENDA


def test_a_tick_lands_on_the_same_item_in_a_newer_text() -> None:
    newer = AGENDA.replace("- [ ] Send the Globex", "- [ ] Ask legal\n- [ ] Send the Globex")
    edit = Edit(seen=("Send the Globex proposal", "Call Hooli"), ticked=frozenset({0, 1}))
    after = apply_edit(newer, edit)
    assert "- [ ] Ask legal\n- [x] Send the Globex proposal\n- [x] Call Hooli" in after


def test_new_items_go_after_the_last_item_and_notes_under_notes() -> None:
    after = apply_edit(AGENDA, Edit(adds=("Book  the\nInitech demo", " "), note="Agreed."))
    assert "- [x] Call Hooli\n- [ ] Book the Initech demo\n- [ ] \n" in after
    assert after.endswith("## Notes\n\nAgreed.\n")
    again = apply_edit(after, Edit(note="Second."))
    assert again.endswith("## Notes\n\nAgreed.\n\nSecond.\n")


def test_a_document_without_an_action_items_section_gets_one() -> None:
    after = apply_edit("# Notes from the road\n", Edit(adds=("Call Bob",)))
    assert after == "# Notes from the road\n\n## Action items\n\n- [ ] Call Bob\n"


def test_a_crlf_document_keeps_its_line_endings() -> None:
    crlf = AGENDA.replace("\n", "\r\n")
    after = apply_edit(crlf, Edit(adds=("Call Bob",)))
    assert "\r\n- [ ] Call Bob\r\n" in after and "\n" not in after.replace("\r\n", "")


def test_the_whole_text_replaces_the_document_and_the_diff_shows_both_sides() -> None:
    assert apply_edit(AGENDA, Edit(text="# new\n")) == "# new\n"
    rows = line_diff("a\nb\nc", "a\nB\nc")
    assert rows == [("same", "a"), ("theirs", "b"), ("yours", "B"), ("same", "c")]
    assert version_of("x") != version_of("y") and len(version_of("x")) == 32


def test_a_database_document_is_saved_only_on_the_version_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'state.db'}")
    # Behave as a shared ledger: the documents live in ``agenda_texts``.
    monkeypatch.setattr(Ledger, "shared", property(lambda self: True))
    now = datetime(2027, 1, 4, 13, tzinfo=UTC)
    ref = "m@x.example/r@x.example/2027-01-05.md"
    try:
        ledger.create_agenda_text(ref, "m@x.example/r@x.example", AGENDA, now)
        doc = AgendaDocument(ledger, ref, "m@x.example/r@x.example", None)
        assert doc.read() == AGENDA
        first = doc.save(version_of(AGENDA), AGENDA + "\nmine\n", now)
        assert first.saved and first.version == 2
        crossing = doc.save(version_of(AGENDA), AGENDA + "\ntheirs\n", now)
        assert not crossing.saved and crossing.current == AGENDA + "\nmine\n"
        assert ledger.agenda_text(ref) == AGENDA + "\nmine\n"
        assert [v.text for v in ledger.agenda_versions(ref)] == [AGENDA, AGENDA + "\nmine\n"]
        assert doc.base_text(version_of(AGENDA)) == AGENDA
        # The compare-and-swap itself: a replace on a text that changed matches nothing.
        assert not ledger.replace_agenda_text(ref, AGENDA, "lost", now)
    finally:
        ledger.close()


def test_the_page_shows_every_item_as_a_box_the_templates_empty_one_too() -> None:
    from scheduler.agenda.page import markdown, render_document

    html = str(render_document(markdown(), AGENDA))
    assert '<input type="checkbox" disabled> Send the Globex proposal' in html
    assert '<input type="checkbox" disabled checked> Call Hooli' in html
    # The empty line left for a new item showed as a literal "[ ]" bullet.
    assert "[ ]" not in html
    assert html.count('<li class="task">') == 3

"""Action items: reading them out of an edited agenda, and carrying the open ones forward.

The scenario runs four weeks of one pair through the default template, with the edits people
make between renders (ticking, adding, rewording with typos, reordering, changing case and
punctuation, deleting); the properties check the matching is one-to-one and that an untouched
agenda changes nothing.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.agenda import (
    DEFAULT_TEMPLATE,
    AgendaContext,
    Item,
    TrackedItem,
    carry_over,
    parse_items,
)
from scheduler.agenda.items import normalise, similarity
from scheduler.agenda.template import load_template

TEMPLATE = load_template(DEFAULT_TEMPLATE)
NEW_YORK = ZoneInfo("America/New_York")


def render(open_items: list[str], week: int = 9) -> str:
    start = datetime(2027, 3, 2, 10, 0, tzinfo=NEW_YORK) + timedelta(weeks=week - 9)
    return TEMPLATE.render(
        AgendaContext(
            manager_name="Marco Rossi",
            manager_email="marco@acme.example",
            rep_name="Ana Alvarez",
            rep_email="ana@acme.example",
            start=start,
            zone=NEW_YORK,
            week=f"2027-W{week:02d}",
            open_items=open_items,
        )
    )


def texts(items: list[Item]) -> list[tuple[str, bool]]:
    return [(item.text, item.done) for item in items]


# --------------------------------------------------------------------------- parse_items


def test_reads_only_the_action_items_section() -> None:
    doc = (
        "# Agenda\n\n## Game plan for next week\n- [ ] not an action item\n\n"
        "## Action items\n\n- [ ] Send deck\n- [x] Call Bo\n  - [X] nested and done\n"
        "* [ ] star bullet\n+ [ ] plus bullet\n1. [ ] numbered\n- [ ] \n- [ ]\n"
        "- plain bullet\n-[ ] no space is not a checkbox\n\n## Notes\n- [ ] after the section\n"
    )
    assert texts(parse_items(doc)) == [
        ("Send deck", False),
        ("Call Bo", True),
        ("nested and done", True),
        ("star bullet", False),
        ("plus bullet", False),
        ("numbered", False),
    ]


def test_line_numbers_are_the_documents() -> None:
    doc = "## Action items\n\n- [ ] one\n\n- [x] two\n"
    assert [item.line for item in parse_items(doc)] == [3, 5]


@pytest.mark.parametrize(
    "heading",
    [
        "# Action items",
        "### ACTION ITEMS",
        "## action Items:",
        "## **Action items**",
        "## ✅ Action items",
        "## Action items ##",
        "Action items\n------------",
        "Action Items\n===",
    ],
)
def test_heading_matched_at_any_level_and_case(heading: str) -> None:
    doc = f"- [ ] before\n\n{heading}\n\n- [ ] inside\n"
    assert texts(parse_items(doc)) == [("inside", False)]


def test_section_runs_over_subheadings_to_the_next_heading_of_its_level() -> None:
    doc = "## Action items\n- [ ] a\n### Ana\n- [ ] b\n### Marco\n- [x] c\n## Next\n- [ ] d\n"
    assert texts(parse_items(doc)) == [("a", False), ("b", False), ("c", True)]


def test_without_the_heading_every_checkbox_counts() -> None:
    doc = "# Our 1:1\n\n## To do\n- [ ] a\n\n## Misc\n* [x] b\n"
    assert texts(parse_items(doc)) == [("a", False), ("b", True)]


def test_fenced_code_is_never_an_item_or_a_heading() -> None:
    doc = (
        "## Action items\n- [ ] real\n```\n- [ ] in code\n## Not a heading\n```\n"
        "~~~~\n- [x] also code\n~~~~\n- [x] real too\n"
    )
    assert texts(parse_items(doc)) == [("real", False), ("real too", True)]


def test_crlf_documents_and_extra_spaces() -> None:
    doc = "## Action items\r\n-   [ ]   Send   the deck  \r\n- [x] Done\r\n"
    assert texts(parse_items(doc)) == [("Send the deck", False), ("Done", True)]


# --------------------------------------------------------------------------- matching


def test_normalise_ignores_case_punctuation_emphasis_and_spacing() -> None:
    assert normalise("  **Send** the   Globex _proposal_!!  ") == "send the globex proposal"
    assert normalise("Follow-up w/ Initech.") == "follow up w initech"
    assert normalise("!!!") == "!!!"


def test_similarity_tolerates_typos_and_reordered_words() -> None:
    assert similarity("ask legal about msa redlines", "ask lgeal about the msa redlines") >= 0.6
    assert similarity("call acme about the renewal", "the renewal call acme about") >= 0.6
    assert similarity("send globex proposal", "book initech demo") < 0.6


def test_exact_match_wins_over_a_closer_fuzzy_claim() -> None:
    tracked = [TrackedItem("t1", "Send deck to Bo"), TrackedItem("t2", "Send deck to Jo")]
    result = carry_over(tracked, "## Action items\n- [ ] send deck to jo\n- [x] Send deck to Bo\n")
    assert [(m.tracked.id, m.score) for m in result.done] == [("t1", 1.0)]
    assert [(m.tracked.id, m.score) for m in result.still_open] == [("t2", 1.0)]


def test_best_fuzzy_pair_is_assigned_first() -> None:
    tracked = [TrackedItem("a", "Call Initech"), TrackedItem("b", "Call Initech CFO today")]
    doc = "## Action items\n- [ ] Call the Initech CFO today\n- [ ] Call Initec\n"
    result = carry_over(tracked, doc)
    assert {m.tracked.id: m.text for m in result.still_open} == {
        "a": "Call Initec",
        "b": "Call the Initech CFO today",
    }
    assert result.added == ()


def test_duplicates_pair_up_line_by_line() -> None:
    tracked = [TrackedItem("a", "Send deck"), TrackedItem("b", "Send deck")]
    result = carry_over(
        tracked, "## Action items\n- [x] Send deck\n- [ ] Send deck\n- [ ] Send deck\n"
    )
    assert [m.tracked.id for m in result.done] == ["a"]
    assert [m.tracked.id for m in result.still_open] == ["b"]
    assert texts(list(result.added)) == [("Send deck", False)]


def test_deleted_item_is_dropped_and_an_unrelated_new_one_is_added() -> None:
    tracked = [TrackedItem("a", "Send Globex proposal")]
    result = carry_over(tracked, "## Action items\n- [ ] Book Initech demo\n")
    assert result.dropped == (tracked[0],)
    assert texts(list(result.added_open)) == [("Book Initech demo", False)]
    assert not result.wiped


def test_a_document_with_no_items_at_all_is_flagged_as_wiped() -> None:
    tracked = [TrackedItem("a", "Send Globex proposal")]
    assert carry_over(tracked, "").wiped
    assert carry_over(tracked, "## Action items\n\nnothing here\n").wiped
    assert not carry_over([], "").wiped
    assert not carry_over(tracked, "## Action items\n- [x] Send Globex proposal\n").wiped


def test_four_weeks_of_edits_carry_exactly_the_open_items() -> None:
    ledger: dict[str, str] = {}  # id -> text of the open items, as the ledger would keep them
    history: dict[str, list[str]] = {}  # id -> what became of it, week by week
    ids = (f"item-{n}" for n in itertools.count(1))

    def read_back(document: str) -> None:
        result = carry_over([TrackedItem(i, t) for i, t in ledger.items()], document)
        assert not result.wiped
        for match in result.done:
            history[match.tracked.id].append("done")
            del ledger[match.tracked.id]
        for match in result.still_open:
            history[match.tracked.id].append("open")
            ledger[match.tracked.id] = match.text
        for tracked in result.dropped:
            history[tracked.id].append("dropped")
            del ledger[tracked.id]
        for item in result.added:
            new_id = next(ids)
            history[new_id] = ["added done" if item.done else "added"]
            if not item.done:
                ledger[new_id] = item.text

    # Week 1: a first agenda with nothing carried; the pair writes their items in the 1:1.
    week1 = render(list(ledger.values()), week=9)
    assert [line for line in week1.splitlines() if line.startswith("- [")] == ["- [ ] "]
    week1 = week1.replace(
        "- [ ] \n",
        "- [ ] Send Globex proposal\n- [ ] Book demo with Initech\n"
        "- [x] Update CRM stages\n- [ ] Ask legal about MSA redlines\n",
    )
    read_back(week1)
    assert list(ledger.values()) == [
        "Send Globex proposal",
        "Book demo with Initech",
        "Ask legal about MSA redlines",
    ]

    # Week 2: one ticked (with new case and punctuation), one reworded, one with typos, the
    # lines reordered, and a new one added on the empty line.
    week2 = render(list(ledger.values()), week=10)
    assert "- [ ] Send Globex proposal\n- [ ] Book demo with Initech\n" in week2
    week2 = week2.replace(
        "- [ ] Send Globex proposal\n- [ ] Book demo with Initech\n"
        "- [ ] Ask legal about MSA redlines\n- [ ] \n",
        "- [ ] Ask lgeal about the MSA redlines\n- [ ] Book a *demo* with Initech (CTO)\n"
        "- [x] send globex proposal!\n- [ ] Prep QBR deck\n- [ ] \n",
    )
    read_back(week2)
    assert list(ledger.values()) == [
        "Book a *demo* with Initech (CTO)",
        "Ask lgeal about the MSA redlines",
        "Prep QBR deck",
    ]

    # Week 3: the legal item deleted, the demo in capitals with a full stop, the deck ticked
    # with a star bullet and a capital X, and a nested new item.
    week3 = render(list(ledger.values()), week=11)
    week3 = (
        week3.replace("- [ ] Ask lgeal about the MSA redlines\n", "")
        .replace(
            "- [ ] Book a *demo* with Initech (CTO)\n", "- [ ] BOOK A DEMO WITH INITECH (CTO).\n"
        )
        .replace("- [ ] Prep QBR deck\n", "* [X] Prep QBR deck\n  - [ ] Follow up with Hooli\n")
    )
    read_back(week3)
    assert list(ledger.values()) == ["BOOK A DEMO WITH INITECH (CTO).", "Follow up with Hooli"]

    # Week 4: nothing ticked; the pair only adds emphasis and swaps the two lines.
    week4 = render(list(ledger.values()), week=12)
    week4 = week4.replace(
        "- [ ] BOOK A DEMO WITH INITECH (CTO).\n- [ ] Follow up with Hooli\n",
        "- [ ] **Follow up** with Hooli\n- [ ] BOOK A DEMO WITH INITECH (CTO).\n",
    )
    read_back(week4)
    assert sorted(ledger.values()) == [
        "**Follow up** with Hooli",
        "BOOK A DEMO WITH INITECH (CTO).",
    ]

    assert history == {
        "item-1": ["added", "done"],
        "item-2": ["added", "open", "open", "open"],
        "item-3": ["added done"],
        "item-4": ["added", "open", "dropped"],
        "item-5": ["added", "done"],
        "item-6": ["added", "open"],
    }


# --------------------------------------------------------------------------- properties

WORDS = ["send", "deck", "call", "acme", "demo", "legal", "msa", "the", "to", "initech", "qbr"]
item_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join)
free_text = st.text(min_size=1, max_size=40).filter(lambda text: text.strip() != "")


@given(
    tracked_texts=st.lists(item_text, max_size=8),
    doc_items=st.lists(st.tuples(item_text, st.booleans()), max_size=10),
)
def test_no_document_item_is_matched_to_two_tracked_items(
    tracked_texts: list[str], doc_items: list[tuple[str, bool]]
) -> None:
    tracked = [TrackedItem(f"t{n}", text) for n, text in enumerate(tracked_texts)]
    doc = "## Action items\n" + "".join(
        f"- [{'x' if done else ' '}] {text}\n" for text, done in doc_items
    )
    result = carry_over(tracked, doc)
    matches = result.done + result.still_open
    lines = [m.item.line for m in matches]
    assert len(lines) == len(set(lines))
    outcome_ids = [m.tracked.id for m in matches] + [t.id for t in result.dropped]
    assert sorted(outcome_ids) == sorted(t.id for t in tracked)
    assert len(matches) + len(result.added) == len(doc_items)
    assert all(m.score >= 0.6 for m in matches)


@given(tracked_texts=st.lists(st.one_of(item_text, free_text), max_size=8))
def test_untouched_agenda_keeps_every_item_open_and_adds_nothing(tracked_texts: list[str]) -> None:
    tracked = [TrackedItem(f"t{n}", text) for n, text in enumerate(tracked_texts)]
    result = carry_over(tracked, render(tracked_texts))
    assert [m.tracked.id for m in result.still_open] == [t.id for t in tracked]
    assert all(m.score == 1.0 for m in result.still_open)
    assert result.done == () and result.dropped == () and result.added == ()
    assert not result.wiped

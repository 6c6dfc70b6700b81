"""Agenda templates: the default agenda's content, problems named by file and line, the sandbox,
and ``check_template``."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.agenda import (
    DEFAULT_TEMPLATE,
    AgendaContext,
    Deal,
    Metric,
    deal_summary,
    metric_lines,
    parse_items,
)
from scheduler.agenda.template import TemplateProblem, check_template, load_template

REPO = Path(__file__).resolve().parents[2]
CONFIG_TEMPLATE = REPO / "config" / "agendas" / "default.md.j2"
NEW_YORK = ZoneInfo("America/New_York")

SECTIONS = [
    "Personal update",
    "Wins this week",
    "Activity, goals and pipeline against benchmarks",
    "Key deals and their next steps",
    "Challenges and areas of opportunity",
    "Game plan for next week",
    "Professional development",
    "Questions and where I need help",
    "Action items",
]


def context(**overrides: object) -> AgendaContext:
    today = date(2027, 3, 1)
    ana = "ana@acme.example"
    deals = [
        Deal(ana, "Globex", Decimal("120000"), "Proposal", "", date(2027, 2, 20)),
        Deal(ana, "Initech", Decimal("80000"), "Negotiation", "Send MSA", date(2027, 3, 20)),
        Deal(ana, "Hooli", Decimal("990000"), "Closed Won", "", None),
        Deal(ana, "Pipe | Co", Decimal("5000.5"), "Discovery", "Intro call", None),
    ]
    metrics = [
        Metric("ana@acme.example", "Calls", Decimal("42"), Decimal("50")),
        Metric("ana@acme.example", "Meetings booked", Decimal("9"), Decimal("8")),
    ]
    values: dict[str, object] = {
        "manager_name": "Marco Rossi",
        "manager_email": "marco@acme.example",
        "rep_name": "Ana Alvarez",
        "rep_email": "ana@acme.example",
        "start": datetime(2027, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC")),
        "zone": NEW_YORK,
        "week": "2027-W09",
        "open_items": ["Send the Globex proposal", "Book a demo\nwith Initech", "  "],
        "previous_link": "https://oneonone.acme.example/agendas/t/marco/ana/2027-02-23",
        "deals": deal_summary(deals, "ana@acme.example", today),
        "metrics": metric_lines(metrics, "ana@acme.example"),
        "pipeline_problems": [],
    }
    values.update(overrides)
    return AgendaContext(**values)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agenda.md.j2"
    path.write_text(text, encoding="utf-8")
    return path


def section(text: str, title: str) -> str:
    """The body of the ``## title`` section."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert found, title
    return found.group(1)


@pytest.fixture(scope="module")
def agenda() -> str:
    return load_template(DEFAULT_TEMPLATE).render(context())


def test_packaged_default_is_the_config_default_byte_for_byte() -> None:
    assert DEFAULT_TEMPLATE.read_bytes() == CONFIG_TEMPLATE.read_bytes()


def test_header_names_the_pair_and_the_local_time_and_asks_the_rep_to_prepare(
    agenda: str,
) -> None:
    lines = agenda.splitlines()
    assert lines[0] == "# 1:1 Marco Rossi / Ana Alvarez: Tuesday 2 March 2027, 10:00 EST"
    assert "Ana Alvarez, it is your time: please prepare this agenda" in agenda


def test_every_section_in_the_spec_order_each_with_guiding_questions(agenda: str) -> None:
    headings = re.findall(r"^## (.+)$", agenda, re.M)
    assert headings == SECTIONS
    for title in SECTIONS[:-1]:
        questions = re.findall(r"^_[^_\n]+\?_$", section(agenda, title), re.M)
        assert 1 <= len(questions) <= 3, title


def test_metrics_table_sets_each_metric_against_its_benchmark(agenda: str) -> None:
    body = section(agenda, "Activity, goals and pipeline against benchmarks")
    assert "| Metric | You | Benchmark | Difference | |" in body
    assert "| Calls | 42 | 50 | -8 | **below** |" in body
    assert "| Meetings booked | 9 | 8 | +1 | at or above |" in body


def test_largest_open_deals_with_flags_and_no_closed_ones(agenda: str) -> None:
    body = section(agenda, "Activity, goals and pipeline against benchmarks")
    deals_part = body.split("Largest open deals:", 1)[1]
    deal_rows = [line for line in deals_part.splitlines() if line.startswith("| ")][1:]
    assert deal_rows == [
        "| Globex | 120,000 | Proposal |  | 2027-02-20 | **no next step**; **close date passed** |",
        "| Initech | 80,000 | Negotiation | Send MSA | 2027-03-20 |  |",
        "| Pipe \\| Co | 5,000.50 | Discovery | Intro call | — |  |",
    ]
    assert "Hooli" not in agenda


def test_action_items_carry_the_open_items_then_an_empty_line_then_the_link(agenda: str) -> None:
    body = section(agenda, "Action items")
    checkboxes = [line for line in body.splitlines() if line.startswith("- [")]
    assert checkboxes == [
        "- [ ] Send the Globex proposal",
        "- [ ] Book a demo with Initech",
        "- [ ] ",
    ]
    assert body.rstrip().endswith(
        "[Previous agenda](https://oneonone.acme.example/agendas/t/marco/ana/2027-02-23)"
    )
    assert [item.text for item in parse_items(agenda)] == [
        "Send the Globex proposal",
        "Book a demo with Initech",
    ]


def test_without_pipeline_data_or_previous_agenda(tmp_path: Path) -> None:
    text = load_template(DEFAULT_TEMPLATE).render(
        context(deals=[], metrics=[], previous_link=None, open_items=[])
    )
    assert "No pipeline data this week" in text
    assert "Previous agenda" not in text and "| Metric" not in text
    assert [line for line in text.splitlines() if line.startswith("- [")] == ["- [ ] "]
    assert text.endswith("- [ ] \n")


def test_pipeline_problems_are_mentioned_without_their_details() -> None:
    text = load_template(DEFAULT_TEMPLATE).render(
        context(pipeline_problems=["/srv/deals.csv, line 3: amount 'x' is not a number."])
    )
    assert "Some pipeline data could not be read (1 problem)" in text
    assert "/srv/deals.csv" not in text


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "# Agenda\n\nHello {{ rep_name }\n")
    with pytest.raises(TemplateProblem) as caught:
        load_template(path)
    assert str(caught.value) == f"{path}, line 3: unexpected '}}'."


def test_unclosed_block_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "{% for item in open_items %}\n- [ ] {{ item }}\n")
    with pytest.raises(TemplateProblem, match=rf"^{re.escape(str(path))}, line \d+: "):
        load_template(path)


def test_undefined_name_names_file_and_line_and_lists_the_names(tmp_path: Path) -> None:
    path = write(tmp_path, "# {{ rep_name }}\n\n{% if deals %}\n{{ rep_nmae }}\n{% endif %}\n")
    template = load_template(path)
    with pytest.raises(TemplateProblem) as caught:
        template.render(context())
    message = str(caught.value)
    assert message.startswith(f"{path}, line 4: 'rep_nmae' is undefined; the names a template ")
    assert "rep_name" in message and message.endswith(".")


def test_unreadable_and_non_utf8_files_are_problems(tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem, match=r"missing\.j2: cannot be read \("):
        load_template(tmp_path / "missing.j2")
    path = tmp_path / "latin1.j2"
    path.write_bytes(b"Caf\xe9 {{ rep_name }}\n")
    with pytest.raises(TemplateProblem, match=r"latin1\.j2: is not UTF-8 text"):
        load_template(path)


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "''.__class__.__mro__[1].__subclasses__()",
        "rep_name.__class__",
        "start.__reduce_ex__(2)",
        "deals[0].__init__.__globals__",
        "cycler.__init__.__globals__",
    ],
)
def test_sandbox_refuses_python_internals(tmp_path: Path, expression: str) -> None:
    path = write(tmp_path, "ok\n{{ " + expression + " }}\n")
    with pytest.raises(TemplateProblem) as caught:
        load_template(path).render(context())
    assert str(caught.value).startswith(f"{path}, line 2: ")


def test_check_template_accepts_the_default() -> None:
    assert check_template(DEFAULT_TEMPLATE) == []
    assert check_template(CONFIG_TEMPLATE) == []


def test_check_template_catches_an_undefined_name_in_an_optional_branch(tmp_path: Path) -> None:
    text = DEFAULT_TEMPLATE.read_text().replace("({{ previous_link }})", "({{ previous_url }})")
    path = write(tmp_path, text)
    (problem,) = check_template(path)
    assert problem.startswith(f"{path}, line ") and "'previous_url' is undefined" in problem


def test_check_template_catches_an_undefined_name_in_an_else_branch(tmp_path: Path) -> None:
    text = DEFAULT_TEMPLATE.read_text().replace(
        "bring your own numbers._", "bring your own numbers, {{ rep_first }}._"
    )
    path = write(tmp_path, text)
    (problem,) = check_template(path)
    assert "'rep_first' is undefined" in problem


def test_check_template_catches_a_template_that_loses_the_open_items(tmp_path: Path) -> None:
    path = write(tmp_path, "# Agenda for {{ rep_name }}\n\n## Action items\n\n- [ ] \n")
    (problem,) = check_template(path)
    assert problem.startswith(f"{path}: does not list the open action items")


def test_check_template_reports_syntax_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.md.j2"
    shutil.copy(DEFAULT_TEMPLATE, broken)
    broken.write_text(broken.read_text() + "{% endif %}\n")
    (problem,) = check_template(broken)
    assert problem.startswith(f"{broken}, line ")
    assert len(check_template(tmp_path / "nope.j2")) == 1


def test_context_requires_an_aware_start_and_an_iso_week() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        context(start=datetime(2027, 3, 2, 10, 0))
    with pytest.raises(ValueError, match="is not an ISO week"):
        context(week="2027-09")
    with pytest.raises(ValueError, match="rep_name is empty"):
        context(rep_name=" ")


def test_session_time_is_shown_in_the_context_zone_across_dst() -> None:
    summer = context(start=datetime(2027, 7, 6, 14, 0, tzinfo=ZoneInfo("UTC")))
    assert (summer.session_date, summer.session_time) == ("Tuesday 6 July 2027", "10:00 EDT")

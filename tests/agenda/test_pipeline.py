"""Pipeline CSVs: good rows are read, each kind of bad row is skipped and named by file and line,
and the agenda's deal and metric summaries pick and flag the right things."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from scheduler.agenda import (
    Deal,
    Metric,
    deal_summary,
    is_closed_stage,
    metric_lines,
    read_deals,
    read_metrics,
)
from scheduler.agenda.pipeline import MAX_PROBLEMS

DEALS_HEADER = "rep_email,account,amount,stage,next_step,close_date\n"
METRICS_HEADER = "rep_email,metric,value,benchmark\n"
TODAY = date(2027, 3, 1)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def deal(account: str, amount: str, stage: str = "Proposal", **kw: object) -> Deal:
    values: dict[str, object] = {
        "rep_email": "ana@acme.example",
        "account": account,
        "amount": Decimal(amount),
        "stage": stage,
        "next_step": "Call the CFO",
        "close_date": date(2027, 3, 31),
    }
    values.update(kw)
    return Deal(**values)  # type: ignore[arg-type]


def test_good_deals_file_reads_every_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        DEALS_HEADER
        + "ana@acme.example,Globex,120000,Proposal,Send pricing,2027-03-15\n"
        + 'Ana@Acme.example,"Initech, Inc.","$1,250.50",Discovery,,\n',
    )
    deals, problems = read_deals(path)
    assert problems == []
    globex = Deal(
        "ana@acme.example",
        "Globex",
        Decimal("120000"),
        "Proposal",
        "Send pricing",
        date(2027, 3, 15),
    )
    initech = Deal("ana@acme.example", "Initech, Inc.", Decimal("1250.50"), "Discovery", "", None)
    assert deals == [globex, initech]


def test_header_columns_in_any_order_and_case_with_extra_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        "Account,REP_EMAIL,owner,amount,stage,next_step,close_date\n"
        "Globex,ana@acme.example,x,10,Won,,2027-01-01\n",
    )
    deals, problems = read_deals(path)
    assert problems == []
    assert [(d.account, d.rep_email, d.amount) for d in deals] == [
        ("Globex", "ana@acme.example", Decimal("10"))
    ]


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("ana@acme.example,Globex,lots,Proposal,Call,2027-03-15", "amount 'lots' is not a number"),
        ("ana@acme.example,Globex,NaN,Proposal,Call,2027-03-15", "amount 'NaN' is not a number"),
        ("ana@acme.example,Globex,-5,Proposal,Call,2027-03-15", "amount '-5' is negative"),
        ("ana@acme.example,Globex,5,Proposal,Call,15/03/2027", "'15/03/2027' is not a date"),
        ("ana@acme.example,Globex,5,Proposal,Call,2027-02-30", "not a date on the calendar"),
        ("ana@acme.example,,5,Proposal,Call,2027-03-15", "account is empty"),
        ("ana@acme.example,Globex,,Proposal,Call,2027-03-15", "amount is empty"),
        ("not-an-email,Globex,5,Proposal,Call,2027-03-15", "is not an e-mail address"),
        ("ana@acme.example,Globex,5,Proposal,2027-03-15", "has 5 fields where the header has 6"),
        ("ana@acme.example,Globex,5,Proposal,Call,2027-03-15,x", "has 7 fields"),
    ],
)
def test_bad_deal_row_is_skipped_and_named_by_file_and_line(
    tmp_path: Path, row: str, fragment: str
) -> None:
    good = "ana@acme.example,Initech,10,Proposal,Call,2027-03-15\n"
    path = write(tmp_path, "deals.csv", DEALS_HEADER + good + row + "\n" + good)
    deals, problems = read_deals(path)
    assert [d.account for d in deals] == ["Initech", "Initech"]
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}, line 3: ")
    assert fragment in problems[0]
    assert problems[0].endswith("the row is skipped.")


def test_row_that_is_not_utf8_is_skipped_and_the_rest_still_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        DEALS_HEADER.encode()
        + b"ana@acme.example,Caf\xe9 Ltd,10,Proposal,Call,2027-03-15\n"
        + "ana@acme.example,Café SA,20,Proposal,Call,2027-03-15\n".encode(),
    )
    deals, problems = read_deals(path)
    assert [d.account for d in deals] == ["Café SA"]
    assert problems == [
        f"{path}, line 2: is not UTF-8 text; save the file as UTF-8; the row is skipped."
    ]


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        DEALS_HEADER
        + "\n"
        + 'ana@acme.example,Globex,10,Proposal,"Call\nthe CFO",2027-03-15\n'
        + "ana@acme.example,Initech,oops,Proposal,Call,2027-03-15\n",
    )
    deals, problems = read_deals(path)
    assert [d.next_step for d in deals] == ["Call\nthe CFO"]
    assert [p.split(":")[0] for p in problems] == [f"{path}, line 5"]


def test_byte_order_mark_from_a_spreadsheet_is_ignored(tmp_path: Path) -> None:
    text = METRICS_HEADER + "a@x.example,Calls,1,2\n"
    path = write(tmp_path, "m.csv", b"\xef\xbb\xbf" + text.encode())
    metrics, problems = read_metrics(path)
    assert problems == [] and len(metrics) == 1


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "ana@acme.example,Globex,10,Proposal,Call,2027-03-15\n"],
    ids=["empty", "blank", "data-first"],
)
def test_file_without_header_is_one_problem(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "deals.csv", text)
    hint = "rep_email,account,amount,stage,next_step,close_date"
    assert read_deals(path) == ([], [f"{path}: has no header row; put {hint} on its first line."])


def test_header_missing_a_column_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", "rep_email,account,amount,stage\nx@y.z,A,1,Open\n")
    deals, problems = read_deals(path)
    assert deals == []
    assert problems == [
        f"{path}, line 1: the header lacks next_step, close_date; it needs "
        "rep_email,account,amount,stage,next_step,close_date."
    ]


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    deals, problems = read_deals(path)
    assert deals == []
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: cannot be read (")


def test_many_bad_rows_are_listed_up_to_a_limit_then_counted(tmp_path: Path) -> None:
    rows = "".join("x@y.z,A,bad,Open,,\n" for _ in range(MAX_PROBLEMS + 5))
    path = write(tmp_path, "deals.csv", DEALS_HEADER + rows)
    _, problems = read_deals(path)
    assert len(problems) == MAX_PROBLEMS + 1
    assert (
        problems[-1] == f"{path}: 5 more bad rows are skipped; fix the ones above and check again."
    )


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("ana@acme.example,Calls,many,50", "value 'many' is not a number"),
        ("ana@acme.example,Calls,40,", "benchmark is empty"),
        ("ana@acme.example,,40,50", "metric is empty"),
        ("ana@acme.example,Calls,40", "has 3 fields where the header has 4"),
    ],
)
def test_bad_metric_row_is_skipped_and_named(tmp_path: Path, row: str, fragment: str) -> None:
    path = write(tmp_path, "m.csv", METRICS_HEADER + row + "\nana@acme.example,Demos,3,2\n")
    metrics, problems = read_metrics(path)
    assert [m.metric for m in metrics] == ["Demos"]
    assert len(problems) == 1 and problems[0].startswith(f"{path}, line 2: ")
    assert fragment in problems[0]


@pytest.mark.parametrize(
    ("stage", "closed"),
    [
        ("Closed Won", True),
        ("closed lost", True),
        ("CLOSED_WON", True),
        ("Closed-Lost", True),
        ("Won", True),
        ("lost", True),
        ("Proposal", False),
        ("Negotiation", False),
        ("", False),
        ("Lost interest? re-engage", False),
    ],
)
def test_closed_stages(stage: str, closed: bool) -> None:
    assert is_closed_stage(stage) is closed


def test_deal_summary_lists_the_reps_largest_open_deals_with_flags() -> None:
    deals = [
        deal("Small", "1000"),
        deal("Huge but won", "900000", stage="Closed Won"),
        deal("Other rep's", "800000", rep_email="bo@acme.example"),
        deal("Big", "500000", next_step=""),
        deal("Late", "300000", close_date=date(2027, 2, 28)),
        deal("Due today", "200000", close_date=TODAY),
        deal("Both", "250000", next_step="TBD", close_date=date(2027, 1, 5)),
        deal("Undated", "100000", close_date=None),
        deal("Lost", "700000", stage="lost"),
    ]
    lines = deal_summary(deals, "ANA@acme.example", TODAY, limit=5)
    assert [(d.account, d.flags) for d in lines] == [
        ("Big", ("no next step",)),
        ("Late", ("close date passed",)),
        ("Both", ("no next step", "close date passed")),
        ("Due today", ()),
        ("Undated", ()),
    ]
    assert lines[0].amount_text == "500,000"
    assert deal_summary(deals, "ana@acme.example", TODAY, limit=1)[0].account == "Big"
    assert deal_summary(deals, "nobody@acme.example", TODAY) == []


def test_metric_lines_show_the_difference_and_direction() -> None:
    metrics = [
        Metric("ana@acme.example", "Calls", Decimal("42"), Decimal("50")),
        Metric("bo@acme.example", "Calls", Decimal("99"), Decimal("50")),
        Metric("ana@acme.example", "Win rate %", Decimal("31.5"), Decimal("30")),
        Metric("ana@acme.example", "Demos", Decimal("6"), Decimal("6")),
    ]
    lines = metric_lines(metrics, "ana@acme.example")
    assert [(m.name, m.difference, m.difference_text, m.at_or_above) for m in lines] == [
        ("Calls", Decimal("-8"), "-8", False),
        ("Win rate %", Decimal("1.5"), "+1.5", True),
        ("Demos", Decimal("0"), "0", True),
    ]

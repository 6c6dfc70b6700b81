"""The command line's side of the dashboard and the report: ``dashboard url|rotate``,
``--version``, each command's one-line ``--help``, and the report's summary table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scheduler.cli import _parser, main
from scheduler.dashboard_io import find_dashboard
from tests.web.conftest import ANA, MARCO, Quarter


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dashboard_url_and_rotate(quarter: Quarter, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(quarter.org.path)
    code, out, _ = run(capsys, "dashboard", "url", MARCO, "--config", config)
    assert code == 0
    first = out.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:8321/dashboards/[A-Za-z0-9_-]{32}", first)
    assert find_dashboard(quarter.ledger, first.rsplit("/", 1)[1]) == MARCO
    # Only a hash is kept: the address is shown once, then rotated.
    code, _, err = run(capsys, "dashboard", "url", MARCO, "--config", config)
    assert code == 1 and f"oneonone dashboard rotate {MARCO}" in err
    code, out, err = run(capsys, "dashboard", "rotate", MARCO, "--config", config)
    assert code == 0 and out.strip() != first and "no longer works" in err
    assert find_dashboard(quarter.ledger, first.rsplit("/", 1)[1]) is None
    code, out, _ = run(capsys, "dashboard", "url", "--all", "--config", config)
    assert code == 0 and find_dashboard(quarter.ledger, out.strip().rsplit("/", 1)[1]) == "*"
    code, _, err = run(capsys, "dashboard", "url", ANA, "--config", config)
    assert code == 1 and "manages nobody" in err
    code, _, err = run(capsys, "dashboard", "url", "nobody@acme.example", "--config", config)
    assert code == 1 and "is not a person" in err
    with pytest.raises(SystemExit) as usage:
        main(["dashboard", "url", "--config", config])
    assert usage.value.code == 2


def test_version_and_a_one_line_description_on_every_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"oneonone \S+\n", capsys.readouterr().out)
    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, sub in commands.choices.items():  # type: ignore[attr-defined]
        assert sub.description and "\n" not in sub.description, name
        nested = [a for a in sub._actions if getattr(a, "choices", None) and a.dest != "help"]
        for action in nested:
            for child_name, child in action.choices.items():
                if hasattr(child, "description"):
                    assert child.description, f"{name} {child_name}"


def test_report_opens_with_a_plain_summary_when_piped(
    quarter: Quarter, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(quarter.org.path)
    now = quarter.now.isoformat()
    quarter.run_until(quarter.now.replace(day=12))
    code, out, _ = run(capsys, "report", "--config", config, "--now", quarter.now.isoformat())
    assert code == 0
    assert "\x1b[" not in out  # no colour codes when not a terminal
    head = out.split("\n\n", 1)[0]
    assert head.startswith("1:1 adherence")
    assert "Marco Rossi / Ana Alvarez" in head and "100%" in head
    assert re.search(r"Tue 05 Jan 10:00 EST", head)
    assert "America/New_York" in head and "America/Chicago" in head
    code, plain, _ = run(capsys, "report", "--no-color", "--config", config, "--now", now)
    assert code == 0 and "\x1b[" not in plain


def test_demo_prints_each_week_aligned_under_its_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "demo", "--dir", str(tmp_path / "demo"), "--weeks", "2")
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("week "))
    rows = lines[header + 1 : header + 3]
    assert [row[:8] for row in rows] == ["2027-W01", "2027-W02"]
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", lines[header])]
    assert len(starts) == 8
    for row in rows:
        for start in starts:  # every cell begins under its column's name
            assert row[start - 2 : start] == "  " and row[start] != " ", (row, start)
    # Its closing lines say how to open the dashboard of the quarter, and that works.
    (command,) = [line.split() for line in lines if "oneonone dashboard url" in line]
    assert command[:4] == ["oneonone", "dashboard", "url", "--all"]
    code, address, _ = run(capsys, *command[1:])
    assert code == 0 and "/dashboards/" in address
    assert any(line.split()[:2] == ["oneonone", "run"] for line in lines)


def test_plan_names_the_pair_of_each_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(tmp_path / "oneonone.toml")
    assert run(capsys, "init", "--config", config)[0] == 0
    code, out, _ = run(capsys, "plan", "--config", config, "--now", "2027-01-04T08:00")
    assert code == 0
    # Each week's time in the organizer's zone, named (as report does); no trailing blanks.
    assert "  2027-W01  Tue 05 Jan 10:00 EST  planned\n" in out
    assert all(line == line.rstrip() for line in out.splitlines())
    changes = [line for line in out.splitlines() if line.startswith("  create_series")]
    assert changes and all(" / " in line for line in changes)
    assert any(
        "Marco Rossi / Ana Alvarez, organizer copy on marco@acme.example" in line
        for line in changes
    )

"""End to end on the embedded default: the CLI over the example org's vdir folders and SQLite."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler.domain.series import utc
from tests.notify.servers import free_port
from tests.system.helpers import (
    REPO,
    calendar_files,
    decline_instance,
    exdate_instance,
    move_instance,
    oneonone,
    oneonone_json,
    series_file,
    without_agenda_tokens,
    write_busy,
)

NY = ZoneInfo("America/New_York")
NOW = "2027-01-05T08:00:00-05:00"  # Tuesday of 2027-W01
MARCO = "marco@acme.example"
ANA = "ana@acme.example"
PLAN_STATUSES = {
    "planned",
    "close_week",
    "time_off",
    "conflict",
    "frozen",
    "people_changed",
    "adopt",
}
REPORT_STATUSES = {
    "upcoming",
    "held",
    "moved",
    "made_up",
    "cancelled",
    "declined",
    "missed",
    "close_week",
    "time_off",
}


def _org(tmp_path: Path) -> Path:
    config = tmp_path / "org" / "oneonone.toml"
    config.parent.mkdir(parents=True)
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", config)
    return config


def _no_makeups(config: Path) -> Path:
    config.write_text(config.read_text().replace("makeup = true", "makeup = false"))
    return config


def _calendars(config: Path) -> Path:
    return config.parent / "data" / "calendars"


def _week(records: list[dict[str, str]], week: str) -> dict[str, str]:
    return next(r for r in records if r["week"] == week)


def _ana_weeks(config: Path, now: str = NOW) -> list[dict[str, str]]:
    plan = oneonone_json(config, "plan", now=now)
    return [o for o in plan["occurrences"] if o["rep"] == ANA]


def test_init_writes_the_example_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "new" / "org.toml"
    first = oneonone(target, "init")
    assert first.returncode == 0, first.stderr
    assert target.read_bytes() == (REPO / "config" / "oneonone.toml").read_bytes()
    second = oneonone(target, "init")
    assert second.returncode == 1
    assert "never overwrites" in second.stderr
    assert oneonone(target, "check").returncode == 0


def test_check_lists_every_problem_in_sentences_without_traceback(tmp_path: Path) -> None:
    config = _org(tmp_path)
    text = config.read_text()
    text = text.replace('timezone = "America/Chicago"', 'timezone = "Mars/Olympus"', 1)
    text = text.replace('manager = "dana@acme.example"', 'manager = "nobody@acme.example"', 1)
    text = text.replace("horizon_weeks = 6", "horizon_weeks = 6\nhorizon = 3")
    config.write_text(text)
    done = oneonone(config, "check")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) >= 3
    assert any("Mars/Olympus" in line for line in lines)
    assert any("nobody@acme.example" in line for line in lines)
    assert any("horizon" in line for line in lines)


def test_a_bad_now_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    done = oneonone(_org(tmp_path), "plan", now="next tuesday")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "--now" in done.stderr and "ISO 8601" in done.stderr


def test_unknown_command_line_usage_exits_2(tmp_path: Path) -> None:
    done = oneonone(_org(tmp_path), "plan", "--weeks", "zero")
    assert done.returncode == 2


def test_sync_writes_each_series_and_its_attendee_copy_and_a_second_sync_changes_nothing(
    tmp_path: Path,
) -> None:
    config = _org(tmp_path)
    first = oneonone_json(config, "sync", now=NOW)
    assert first["written"] == 16  # 8 pairs, organizer and attendee copies
    organizer = series_file(_calendars(config) / "marco", MARCO, ANA)
    attendee = series_file(_calendars(config) / "ana", MARCO, ANA)
    assert organizer.read_bytes() == attendee.read_bytes()
    master = next(
        c
        for c in Calendar.from_ical(organizer.read_bytes()).walk("VEVENT")
        if "RECURRENCE-ID" not in c
    )
    assert master["X-ONEONONE-PAIR"] == f"{MARCO}/{ANA}"
    assert "FREQ=WEEKLY" in master["RRULE"].to_ical().decode()
    before = {
        p: (b, (_calendars(config) / p).stat().st_mtime_ns)
        for p, b in calendar_files(_calendars(config)).items()
    }
    second = oneonone_json(config, "sync", now=NOW)
    assert second["written"] == 0 and second["changes"] == []
    after = {
        p: (b, (_calendars(config) / p).stat().st_mtime_ns)
        for p, b in calendar_files(_calendars(config)).items()
    }
    assert before == after


def test_plan_json_has_the_spec_shape_and_changes_nothing(tmp_path: Path) -> None:
    config = _org(tmp_path)
    plan = oneonone_json(config, "plan", now=NOW)
    assert set(plan) == {"occurrences", "changes", "agendas", "notices", "safety_stop"}
    assert plan["safety_stop"] is None
    assert not (config.parent / "data" / "calendars" / "marco").exists() or not any(
        (config.parent / "data" / "calendars" / "marco").iterdir()
    )
    for item in plan["occurrences"]:
        assert set(item) == {"manager", "rep", "week", "start", "end", "status", "reason"}
        assert item["status"] in PLAN_STATUSES
        assert datetime.fromisoformat(item["start"]).utcoffset() is not None
    assert len(plan["changes"]) == 16
    assert {c["action"] for c in plan["changes"]} == {"create_series"}


def test_plan_shows_the_agendas_and_notices_the_next_sync_writes_and_sends(
    tmp_path: Path,
) -> None:
    """``plan`` is the pass without applying it: the agenda documents due and the notices
    (prep notices, digests) it lists are the ones the sync that follows writes and sends."""
    config = _org(tmp_path)
    for now in (NOW, "2027-01-11T08:00:00-05:00"):
        plan = oneonone_json(config, "plan", now=now)
        done = oneonone_json(config, "sync", now=now)
        assert len(plan["agendas"]) == done["agendas_written"] > 0
        assert len(plan["notices"]) == done["notices_sent"] > 0
        for agenda in plan["agendas"]:
            assert set(agenda) == {"manager", "rep", "week", "date"}
        kinds = {notice["kind"] for notice in plan["notices"]}
        assert "prep" in kinds
    assert "digest" in kinds  # the second Monday's digests of the week before
    assert oneonone_json(config, "plan", now="2027-01-11T08:05:00-05:00")["notices"] == []


def test_report_json_has_the_spec_shape(tmp_path: Path) -> None:
    config = _org(tmp_path)
    oneonone(config, "sync", now=NOW, check=True)
    oneonone(config, "sync", now="2027-01-20T08:00:00-05:00", check=True)
    report = oneonone_json(config, "report", now="2027-01-20T08:00:00-05:00")
    assert set(report) == {"pairs", "notices"}
    pair = next(p for p in report["pairs"] if p["rep"] == ANA)
    assert {
        "manager",
        "rep",
        "skip_level",
        "missed_streak",
        "adherence_4w",
        "adherence_12w",
        "weeks",
    } <= set(pair)
    assert pair["skip_level"] == "vera@acme.example"
    for week in pair["weeks"]:
        assert set(week) == {"week", "status", "start", "planned_start", "agenda"}
        assert week["status"] in REPORT_STATUSES
    statuses = {w["week"]: w["status"] for w in pair["weeks"]}
    assert statuses["2027-W02"] == "held"
    assert statuses["2027-W04"] == "close_week"
    assert statuses["2027-W05"] == "upcoming"
    assert pair["missed_streak"] == 0
    assert pair["adherence_4w"] == 1.0


def test_busy_regular_slot_moves_to_the_nearest_free_time_with_an_explanation(
    tmp_path: Path,
) -> None:
    config = _org(tmp_path)
    write_busy(_calendars(config) / "ana", "ana-call", datetime(2027, 1, 12, 10, 0, tzinfo=NY))
    weeks = _ana_weeks(config)
    w02 = _week(weeks, "2027-W02")
    assert datetime.fromisoformat(w02["start"]) == datetime(2027, 1, 12, 9, 30, tzinfo=NY)
    assert w02["reason"] == "moved from Tue 10:00: Ana busy"
    oneonone(config, "sync", now=NOW, check=True)
    organizer = Calendar.from_ical(
        series_file(_calendars(config) / "marco", MARCO, ANA).read_bytes()
    )
    # (W01's instance carries its agenda in an override of its own, at the rule's time.)
    overrides = [c for c in organizer.walk("VEVENT") if "RECURRENCE-ID" in c and "ATTACH" not in c]
    assert [str(c["DESCRIPTION"]) for c in overrides] == ["moved from Tue 10:00: Ana busy"]


def test_a_moved_instance_is_kept_even_when_the_planner_would_move_it(tmp_path: Path) -> None:
    config = _org(tmp_path)
    oneonone(config, "sync", now=NOW, check=True)
    path = series_file(_calendars(config) / "marco", MARCO, ANA)
    rid = datetime(2027, 1, 19, 10, 0, tzinfo=NY)
    moved_to = datetime(2027, 1, 20, 15, 0, tzinfo=NY)
    move_instance(path, rid, moved_to)
    # The person's new time is now busy for Ana: the product must not "fix" it.
    write_busy(_calendars(config) / "ana", "ana-dentist", moved_to)
    result = oneonone_json(config, "sync", now=NOW)
    assert result["observed_changes"] == 1
    w03 = _week(_ana_weeks(config), "2027-W03")
    assert w03["status"] == "people_changed"
    assert datetime.fromisoformat(w03["start"]) == moved_to
    for folder in ("marco", "ana"):
        cal = Calendar.from_ical(series_file(_calendars(config) / folder, MARCO, ANA).read_bytes())
        starts = {
            utc(c.decoded("recurrence-id")): c.decoded("dtstart")
            for c in cal.walk("VEVENT")
            if "RECURRENCE-ID" in c
        }
        assert starts[utc(rid)] == moved_to
    assert oneonone_json(config, "sync", now=NOW)["written"] == 0
    after = "2027-01-21T08:00:00-05:00"
    oneonone(config, "sync", now=after, check=True)
    report = oneonone_json(config, "report", now=after)
    pair = next(p for p in report["pairs"] if p["rep"] == ANA)
    assert {w["week"]: w["status"] for w in pair["weeks"]}["2027-W03"] == "moved"


def test_a_decline_on_the_attendee_copy_only_is_recorded_and_kept(tmp_path: Path) -> None:
    config = _no_makeups(_org(tmp_path))
    oneonone(config, "sync", now=NOW, check=True)
    rid = datetime(2027, 1, 12, 10, 0, tzinfo=NY)
    decline_instance(series_file(_calendars(config) / "ana", MARCO, ANA), rid, ANA)
    oneonone(config, "sync", now=NOW, check=True)
    assert _week(_ana_weeks(config), "2027-W02")["status"] == "people_changed"
    organizer = Calendar.from_ical(
        series_file(_calendars(config) / "marco", MARCO, ANA).read_bytes()
    )
    override = next(
        c
        for c in organizer.walk("VEVENT")
        if "RECURRENCE-ID" in c and c.decoded("RECURRENCE-ID") == rid
    )
    answers = {
        str(a).lower().removeprefix("mailto:"): a.params["PARTSTAT"] for a in override["ATTENDEE"]
    }
    assert answers[ANA] == "DECLINED"
    later = "2027-01-14T08:00:00-05:00"
    oneonone(config, "sync", now=later, check=True)
    report = oneonone_json(config, "report", now=later)
    pair = next(p for p in report["pairs"] if p["rep"] == ANA)
    assert {w["week"]: w["status"] for w in pair["weeks"]}["2027-W02"] == "declined"
    assert pair["missed_streak"] == 1


def test_an_exdate_added_by_a_person_is_a_cancel_and_stays(tmp_path: Path) -> None:
    config = _no_makeups(_org(tmp_path))
    oneonone(config, "sync", now=NOW, check=True)
    path = series_file(_calendars(config) / "marco", MARCO, ANA)
    rid = datetime(2027, 1, 12, 10, 0, tzinfo=NY)
    exdate_instance(path, rid)
    oneonone(config, "sync", now=NOW, check=True)
    cal = Calendar.from_ical(path.read_bytes())
    master = next(c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c)
    exdates = master.get("EXDATE")
    values = exdates if isinstance(exdates, list) else [exdates]
    assert utc(rid) in {utc(d.dt) for prop in values for d in prop.dts}
    later = "2027-01-14T08:00:00-05:00"
    oneonone(config, "sync", now=later, check=True)
    pair = next(p for p in oneonone_json(config, "report", now=later)["pairs"] if p["rep"] == ANA)
    assert {w["week"]: w["status"] for w in pair["weeks"]}["2027-W02"] == "cancelled"


def test_a_calendar_that_suddenly_reads_empty_is_a_safety_stop(tmp_path: Path) -> None:
    config = _org(tmp_path)
    oneonone(config, "sync", now=NOW, check=True)
    marco = _calendars(config) / "marco"
    for path in marco.iterdir():
        path.unlink()
    done = oneonone(config, "sync", now=NOW)
    assert done.returncode == 3
    assert "reads as empty" in done.stderr and "--force" in done.stderr
    assert not any(marco.iterdir())
    forced = oneonone(config, "sync", "--force", now=NOW)
    assert forced.returncode == 0, forced.stderr
    assert len(list(marco.glob("*.ics"))) == 4


def test_removing_many_pairs_at_once_is_a_safety_stop_and_force_ends_them(tmp_path: Path) -> None:
    config = _org(tmp_path)
    oneonone(config, "sync", now=NOW, check=True)
    text = config.read_text()
    text = text.replace(
        'manager = "dana@acme.example"\n', "", 2
    )  # Raj and Lucia lose their manager
    config.write_text(text)
    done = oneonone(config, "sync", now=NOW)
    assert done.returncode == 3, done.stderr
    assert "would end 2 of 8" in done.stderr
    forced = oneonone(config, "sync", "--force", now=NOW)
    assert forced.returncode == 0, forced.stderr
    dana_files = list((_calendars(config) / "dana").glob("*.ics"))
    ended = [p for p in dana_files if "UNTIL=" in p.read_text()]
    assert len(ended) == 2  # ended, not deleted: history stays
    assert len(dana_files) == 4


def test_two_writers_never_run_at_once_and_the_daemon_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    config = _org(tmp_path)
    # The daemon serves feeds on [server] bind: a free port, not the example's fixed 8321 (which
    # another test run on this machine may hold).
    text = config.read_text()
    assert 'bind = "127.0.0.1:8321"' in text
    config.write_text(text.replace("127.0.0.1:8321", f"127.0.0.1:{free_port()}"))
    # The daemon's output goes to a file: a pipe nobody reads while the test waits would stall
    # the daemon once its buffer fills (and the file says what it did when the test fails).
    output = tmp_path / "daemon.log"
    with output.open("w") as sink:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "run", "--config", str(config), "--now", NOW],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        state = config.parent / "data" / "state.db"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            report = oneonone(config, "report", "--json", now=NOW)
            if report.returncode == 0 and json.loads(report.stdout)["pairs"]:
                break
            if daemon.poll() is not None:
                break
            time.sleep(0.3)
        else:
            # Met three times (CI, a loaded machine), never reproduced: the stacks and the last
            # report say where the first pass waits.
            daemon.send_signal(signal.SIGUSR1)
            time.sleep(2)
            pytest.fail(
                f"the daemon's first pass did not happen:\n{output.read_text()}\n"
                f"last report: exit {report.returncode}\n{report.stdout[-2000:]}\n"
                f"{report.stderr[-2000:]}"
            )
        assert daemon.poll() is None, f"the daemon stopped:\n{output.read_text()}"
        assert state.exists()
        second = oneonone(config, "run", now=NOW)
        assert second.returncode == 1
        assert "already working" in second.stderr
        assert oneonone(config, "sync", now=NOW).returncode == 1
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def _busy_world(config: Path) -> None:
    rng = random.Random(3)
    people = ["vera", "marco", "dana", "ana", "liam", "sam", "raj", "lucia", "tom"]
    for name in people:
        for index in range(12):
            day = datetime(2027, 1, 4, tzinfo=NY) + timedelta(days=rng.randint(0, 40))
            start = day.replace(hour=rng.randint(9, 15), minute=rng.choice((0, 30)))
            write_busy(_calendars(config) / name, f"{name}-{index}", start, rng.choice((30, 60)))


@pytest.mark.slow
def test_a_sync_killed_at_random_points_ends_like_an_uninterrupted_one(tmp_path: Path) -> None:
    reference = _org(tmp_path / "reference")
    _busy_world(reference)
    started = time.monotonic()
    oneonone(reference, "sync", now=NOW, check=True)
    duration = time.monotonic() - started
    oneonone(reference, "sync", now="2027-01-13T08:00:00-05:00", check=True)

    victim = _org(tmp_path / "victim")
    _busy_world(victim)
    rng = random.Random(11)
    for when in (NOW, "2027-01-13T08:00:00-05:00"):
        for _ in range(6):
            process = subprocess.Popen(
                [sys.executable, "-m", "scheduler", "sync", "--config", str(victim), "--now", when],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.1, duration))
            process.send_signal(signal.SIGKILL)
            process.wait()
        oneonone(victim, "sync", now=when, check=True)

    # Each ledger has its own agenda secret: the same agendas at other addresses.
    def files(config: Path) -> dict[str, bytes]:
        return {
            name: without_agenda_tokens(data)
            for name, data in calendar_files(_calendars(config)).items()
        }

    def report(config: Path) -> bytes:
        text = json.dumps(oneonone_json(config, "report", now=later), sort_keys=True)
        return without_agenda_tokens(text.encode())

    later = "2027-01-13T08:00:00-05:00"
    assert files(victim) == files(reference)
    assert report(victim) == report(reference)
    assert oneonone_json(victim, "sync", now=later)["written"] == 0


@pytest.mark.slow
def test_demo_prints_a_quarter_and_leaves_its_folder_to_inspect(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "scheduler", "demo", "--dir", str(folder), "--weeks", "6"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("2027-W")]
    assert [row.split()[0] for row in rows] == [f"2027-W0{n}" for n in range(1, 7)]
    assert "close" in rows[3]  # 2027-W04 holds Fri 29 Jan, January's last business day
    assert "MOVED" in done.stdout  # a person's move, kept
    assert (folder / "data" / "state.db").exists()
    assert list((folder / "data" / "calendars" / "marco").glob("oneonone-*.ics"))
    again = subprocess.run(
        [sys.executable, "-m", "scheduler", "demo", "--dir", str(folder), "--weeks", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr

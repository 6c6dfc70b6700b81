"""The org file: the shipped example, path resolution, overrides, and one test per bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain import Slot
from scheduler.errors import UserError
from scheduler.orgfile import (
    EXAMPLE_PATH,
    Org,
    load_org,
    problems_in_calendars,
    shared_working_time,
)
from scheduler.settings import load_settings, resolve_now

REPO = Path(__file__).resolve().parents[2]
NY = ZoneInfo("America/New_York")

BASE = """\
[org]
name = "Test Org"
timezone = "America/New_York"
"""


def person(email: str, **keys: str) -> str:
    lines = ["[[person]]", f'email = "{email}"']
    lines += [f"{key} = {value}" for key, value in keys.items()]
    if "calendar" not in keys:
        lines.append(f'calendar = {{ provider = "vdir", path = "cal/{email.split("@")[0]}" }}')
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        load_org(path, env={})
    found = caught.value.problems
    for sentence in found:
        # Plain sentences only: never pydantic's own wording or a traceback.
        assert "pydantic" not in sentence and "Value error" not in sentence
        assert "Traceback" not in sentence and "validation error" not in sentence.lower()
        assert sentence.startswith(str(path)), sentence
    return found


def one_problem(tmp_path: Path, text: str) -> str:
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def pair_team(**rep_keys: str) -> str:
    return (
        BASE
        + person("boss@x.example", name='"Bea Boss"')
        + person("rep@x.example", name='"Rex Rep"', manager='"boss@x.example"', **rep_keys)
    )


# --------------------------------------------------------------------------- the example


@pytest.fixture(scope="module")
def example() -> Org:
    return load_org(EXAMPLE_PATH, env={})


def test_example_and_config_copy_are_identical() -> None:
    assert (REPO / "config" / "oneonone.toml").read_bytes() == EXAMPLE_PATH.read_bytes()


def test_example_people_and_pairs(example: Org) -> None:
    assert example.name == "Acme Sales"
    assert example.timezone == "America/New_York"
    assert example.zone == NY
    assert len(example.people) == 9
    assert len(example.pairs) == 8
    assert next(iter(example.people)) == "vera@acme.example"
    assert example.calendar.country == "US"


def test_example_skip_levels(example: Org) -> None:
    skip = {pair.rep.email: pair.skip_level for pair in example.pairs}
    assert skip["marco@acme.example"] is None
    assert skip["dana@acme.example"] is None
    for rep in ("ana", "liam", "sam", "raj", "lucia", "tom"):
        assert skip[f"{rep}@acme.example"] == "vera@acme.example"


def test_example_slots_are_staggered(example: Org) -> None:
    slots = {pair.rep.email.split("@")[0]: (pair.slot, pair.duration) for pair in example.pairs}
    minutes = dt.timedelta(minutes=30)
    # Vera's own setting (Thu 14:00, 45 min) for both managers, back to back.
    assert slots["marco"] == (Slot(3, dt.time(14, 0)), dt.timedelta(minutes=45))
    assert slots["dana"] == (Slot(3, dt.time(14, 45)), dt.timedelta(minutes=45))
    # Marco's reps: two on the default, staggered; Liam on his own slot.
    assert slots["ana"] == (Slot(1, dt.time(10, 0)), minutes)
    assert slots["sam"] == (Slot(1, dt.time(10, 30)), minutes)
    assert slots["liam"] == (Slot(0, dt.time(9, 0)), minutes)
    # Dana's reps, in Chicago time; Lucia has her own time.
    assert slots["raj"] == (Slot(1, dt.time(10, 0)), minutes)
    assert slots["tom"] == (Slot(1, dt.time(10, 30)), minutes)
    assert slots["lucia"] == (Slot(1, dt.time(13, 0)), minutes)


def test_example_london_pair_overlaps_only_in_the_new_york_morning(example: Org) -> None:
    marco = example.people["marco@acme.example"]
    liam = example.people["liam@acme.example"]
    assert liam.timezone == "Europe/London"
    for monday in (dt.date(2026, 1, 5), dt.date(2026, 7, 6)):
        shared = shared_working_time(marco, liam, monday)
        assert len(shared) == 5
        for span in shared:
            assert span.start.astimezone(NY).time() == dt.time(9, 0)
            assert span.end.astimezone(NY).time() == dt.time(12, 0)
    liam_pair = next(p for p in example.pairs if p.rep is liam)
    start = liam_pair.regular_start("2026-W02")
    assert liam.working_hours.contains(start, start + liam_pair.duration, liam.zone)
    assert marco.working_hours.contains(start, start + liam_pair.duration, marco.zone)


def test_example_titles_and_settings(example: Org) -> None:
    pair = example.pairs[2]
    assert example.title(pair) == "1:1 Marco / Ana"
    assert example.schedule.horizon_weeks == 6
    assert example.escalation.escalate_after == 2
    assert example.email.sender == "oneonone@acme.example"
    assert example.email.password_env == "ONEONONE_SMTP_PASSWORD"
    assert example.slack_webhook_env == ""


def test_example_calendars_are_vdir_under_the_files_folder(example: Org) -> None:
    assert len(example.calendars) == 9
    for email, config in example.calendars.items():
        assert config.provider == "vdir"
        assert config.path == EXAMPLE_PATH.parent / "data" / "calendars" / email.split("@")[0]


# --------------------------------------------------------------------------- paths and env


def test_relative_paths_resolve_against_the_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    path = folder / "org.toml"
    path.write_bytes(EXAMPLE_PATH.read_bytes())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    org = load_org(Path("../deploy/org.toml"), env={})
    assert org.base_dir == folder
    assert org.data_dir == folder / "data"
    assert org.database_url == f"sqlite:///{folder}/data/state.db"
    assert org.calendars["ana@acme.example"].path == folder / "data" / "calendars" / "ana"


def test_absolute_paths_stay(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "cal"
    text = (
        BASE
        + f'data_dir = "{tmp_path / "state"}"\n'
        + person("a@x.example", calendar=f'{{ provider = "vdir", path = "{target}" }}')
    )
    org = load_org(write(tmp_path, text), env={})
    assert org.calendars["a@x.example"].path == target
    assert org.data_dir == tmp_path / "state"


def test_env_database_url_wins() -> None:
    org = load_org(EXAMPLE_PATH, env={"ONEONONE_DATABASE_URL": "postgresql://db/oneonone"})
    assert org.database_url == "postgresql://db/oneonone"


def test_env_overrides_email_settings() -> None:
    env = {
        "ONEONONE_NOTIFY__EMAIL__HOST": "smtp.acme.example",
        "ONEONONE_NOTIFY__EMAIL__PORT": "25",
    }
    org = load_org(EXAMPLE_PATH, env=env)
    assert org.email.host == "smtp.acme.example"
    assert org.email.port == 25
    assert org.email.sender == "oneonone@acme.example"


def test_bad_env_is_reported_with_the_variable() -> None:
    with pytest.raises(UserError) as caught:
        load_org(EXAMPLE_PATH, env={"ONEONONE_NOW": "next tuesday"})
    assert "ONEONONE_NOW" in caught.value.problems[0]


def test_settings_naive_now_is_read_in_the_org_zone() -> None:
    settings = load_settings({"ONEONONE_NOW": "2026-03-02T09:00"})
    assert settings.now == dt.datetime(2026, 3, 2, 9, 0)
    assert resolve_now(settings.now, NY) == dt.datetime(2026, 3, 2, 9, 0, tzinfo=NY)
    aware = load_settings({}, now="2026-03-02T09:00:00+00:00").now
    assert resolve_now(aware, NY) == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert load_settings({"ONEONONE_CONFIG": "x.toml"}).config == Path("x.toml")


def test_emails_are_case_insensitive(tmp_path: Path) -> None:
    text = BASE + person("Boss@X.example") + person("Rep@X.example", manager='"BOSS@x.example"')
    org = load_org(write(tmp_path, text), env={})
    assert list(org.people) == ["boss@x.example", "rep@x.example"]
    assert org.pairs[0].manager.email == "boss@x.example"


def test_defaults_apply_when_tables_are_left_out(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, pair_team()), env={})
    assert org.pairs[0].slot == Slot(1, dt.time(10, 0))
    assert org.pairs[0].duration == dt.timedelta(minutes=30)
    assert org.schedule.freeze_hours == 48
    assert org.email.host == ""
    assert org.calendar.country is None


# --------------------------------------------------------------------------- slots


def test_stagger_wraps_to_the_next_workday_and_skips_taken_slots(tmp_path: Path) -> None:
    text = BASE + person("boss@x.example", working_hours='"09:00-11:00"')
    # Explicit 10:30 on Tuesday: the staggered reps go around it.
    text += person("fixed@x.example", manager='"boss@x.example"', time='"10:30"')
    for name in ("a", "b", "c", "d"):
        text += person(f"{name}@x.example", manager='"boss@x.example"')
    org = load_org(write(tmp_path, text), env={})
    slots = {pair.rep.email[0]: pair.slot for pair in org.pairs}
    assert slots["f"] == Slot(1, dt.time(10, 30))
    assert slots["a"] == Slot(1, dt.time(10, 0))
    # 10:30 is taken and 11:00 would end past 11:00: Wednesday 10:00.
    assert slots["b"] == Slot(2, dt.time(10, 0))
    assert slots["c"] == Slot(2, dt.time(10, 30))
    assert slots["d"] == Slot(3, dt.time(10, 0))


def test_manager_setting_is_the_default_for_reps(tmp_path: Path) -> None:
    text = BASE + person("boss@x.example", weekday='"fri"', duration_minutes="45")
    text += person("a@x.example", manager='"boss@x.example"')
    text += person("b@x.example", manager='"boss@x.example"', weekday='"thu"')
    org = load_org(write(tmp_path, text), env={})
    assert org.pairs[0].slot == Slot(4, dt.time(10, 0))
    assert org.pairs[0].duration == dt.timedelta(minutes=45)
    # A different weekday does not collide, so no stagger.
    assert org.pairs[1].slot == Slot(3, dt.time(10, 0))


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(UserError) as caught:
        load_org(path, env={})
    assert caught.value.problems == [
        f"no org file at {path}: run `oneonone init --config {path}` to write an example"
    ]


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    text = '[org]\nname = "x"\ntimezone = America/New_York\n'
    sentence = one_problem(tmp_path, text)
    assert "TOML syntax error at line 3, column" in sentence


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, pair_team(timezon='"Europe/London"'))
    assert "person[2] (rep@x.example).timezon:" in sentence
    assert "did you mean 'timezone'" in sentence
    assert "working_hours" in sentence and "calendar" in sentence


def test_unknown_key_in_a_table_and_unknown_table(tmp_path: Path) -> None:
    text = pair_team() + '[schedule]\nhorizon = 4\n[notify.email]\nsender = "a@b"\n[agendas]\n'
    found = problems(tmp_path, text)
    assert any("schedule.horizon:" in s and "horizon_weeks" in s for s in found)
    assert any("notify.email.sender:" in s and "from" in s for s in found)
    assert any("agendas:" in s and "unknown table" in s for s in found)


def test_bad_time_zone_suggests_an_iana_name(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, pair_team(timezone='"America/New_Yrok"'))
    assert "person[2] (rep@x.example).timezone:" in sentence
    assert "IANA" in sentence and '"America/New_York"' in sentence


def test_bad_org_time_zone(tmp_path: Path) -> None:
    text = '[org]\nname = "x"\ntimezone = "Mars/Olympus"\n' + person("a@x.example")
    sentence = one_problem(tmp_path, text)
    assert "org.timezone:" in sentence and "IANA" in sentence


def test_bad_weekday(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, pair_team(weekday='"tues"'))
    assert "person[2] (rep@x.example).weekday:" in sentence and "use mon" in sentence


def test_bad_workdays_item(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, pair_team(workdays='["mon", "funday"]'))
    assert "person[2] (rep@x.example).workdays:" in sentence and "use mon" in sentence


def test_bad_time(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, pair_team(time='"10am"'))
    assert "person[2] (rep@x.example).time:" in sentence and "HH:MM" in sentence


def test_bad_working_hours(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, pair_team(working_hours='"9 to 5"'))
    assert "person[2] (rep@x.example).working_hours:" in sentence
    assert "HH:MM-HH:MM" in sentence


def test_working_hours_that_end_before_they_start(tmp_path: Path) -> None:
    text = BASE + '[defaults]\nworking_hours = "17:00-09:00"\n' + person("a@x.example")
    sentence = one_problem(tmp_path, text)
    assert "defaults.working_hours:" in sentence and "HH:MM-HH:MM" in sentence


def test_duplicate_email(tmp_path: Path) -> None:
    text = pair_team() + person("REP@x.example")
    sentence = one_problem(tmp_path, text)
    assert "person[3] (rep@x.example).email:" in sentence
    assert "person[2]" in sentence and "appears once" in sentence


def test_manager_who_is_not_a_person(tmp_path: Path) -> None:
    text = BASE + person("a@x.example", manager='"ghost@x.example"')
    sentence = one_problem(tmp_path, text)
    assert "person[1] (a@x.example).manager:" in sentence
    assert "ghost@x.example is not a person" in sentence


def test_cycle_in_the_management_chain_names_everyone_in_it(tmp_path: Path) -> None:
    text = BASE + person("top@x.example", name='"Tia Top"')
    text += person("ann@x.example", name='"Ann A"', manager='"cat@x.example"')
    text += person("bob@x.example", name='"Bob B"', manager='"ann@x.example"')
    text += person("cat@x.example", name='"Cat C"', manager='"bob@x.example"')
    sentence = one_problem(tmp_path, text)
    assert "person[2] (ann@x.example).manager:" in sentence
    assert "loop" in sentence
    for name in ("Ann A", "Bob B", "Cat C"):
        assert name in sentence
    assert "Tia Top" not in sentence


def test_own_manager_is_a_cycle(tmp_path: Path) -> None:
    text = BASE + person("a@x.example", manager='"a@x.example"')
    sentence = one_problem(tmp_path, text)
    assert "person[1] (a@x.example).manager:" in sentence and "loop" in sentence


def test_working_hours_that_never_overlap(tmp_path: Path) -> None:
    text = BASE + person("la@x.example", timezone='"America/Los_Angeles"')
    text += person("tokyo@x.example", timezone='"Asia/Tokyo"', manager='"la@x.example"')
    sentence = one_problem(tmp_path, text)
    assert "person[2] (tokyo@x.example).working_hours:" in sentence
    assert "never work at the same time" in sentence
    assert "Asia/Tokyo" in sentence and "America/Los_Angeles" in sentence


def test_working_hours_overlap_shorter_than_the_meeting(tmp_path: Path) -> None:
    text = BASE + person("ny@x.example")
    text += person(
        "ldn@x.example",
        timezone='"Europe/London"',
        working_hours='"08:00-14:15"',
        manager='"ny@x.example"',
    )
    sentence = one_problem(tmp_path, text)
    assert "person[2] (ldn@x.example).working_hours:" in sentence
    assert "at most 15 minutes" in sentence


def test_bad_close_window_values(tmp_path: Path) -> None:
    text = pair_team() + (
        '[close_window]\nrule = "end_of_month"\ndays = 0\npattern = "4-4-4"\n'
        'blackout = ["2026-12-24..2026-12-xx"]\npolicy = "drop"\n'
    )
    found = problems(tmp_path, text)
    joined = "\n".join(found)
    assert "close_window.rule:" in joined and "'last_week'" in joined
    assert "close_window.days:" in joined
    assert "close_window.pattern:" in joined
    assert "close_window.policy:" in joined
    assert "close_window.blackout" in joined and "2026-12-xx" in joined


def test_fiscal_rule_needs_a_year_start(tmp_path: Path) -> None:
    text = pair_team() + '[close_window]\nrule = "fiscal"\n'
    sentence = one_problem(tmp_path, text)
    assert "close_window.year_start" in sentence


def test_unknown_country(tmp_path: Path) -> None:
    text = BASE.replace('timezone = "America/New_York"', 'timezone = "UTC"\ncountry = "XX"')
    sentence = one_problem(tmp_path, text + person("a@x.example"))
    assert "org.country:" in sentence and "XX" in sentence


def test_unknown_subdivision(tmp_path: Path) -> None:
    text = BASE + 'country = "US"\nsubdivision = "ZZ"\n' + person("a@x.example")
    sentence = one_problem(tmp_path, text)
    assert "org.subdivision:" in sentence and "ZZ" in sentence


def test_unknown_calendar_provider(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, pair_team(calendar='{ provider = "outlook" }'))
    assert "person[2] (rep@x.example).calendar:" in sentence and "vdir" in sentence


def test_calendar_keys_are_checked_per_provider(tmp_path: Path) -> None:
    text = BASE + person(
        "a@x.example", calendar='{ provider = "vdir", path = "p", url = "https://x" }'
    )
    text += person("b@x.example", calendar='{ provider = "caldav", url = "https://dav.example" }')
    text += person("c@x.example", calendar='{ provider = "ics" }')
    found = problems(tmp_path, text)
    joined = "\n".join(found)
    assert "person[1] (a@x.example).calendar.url: unknown key 'url'" in joined
    assert "person[2] (b@x.example).calendar.username: required key missing" in joined
    assert "person[2] (b@x.example).calendar.password_env: required key missing" in joined
    assert "person[3] (c@x.example).calendar.url: required key missing" in joined


def test_all_four_providers_parse(tmp_path: Path) -> None:
    text = BASE + person("a@x.example", calendar='{ provider = "google" }')
    text += person("b@x.example", calendar='{ provider = "ics", url = "https://o.example/c.ics" }')
    text += person(
        "c@x.example",
        calendar='{ provider = "caldav", url = "https://dav.example/", username = "c", '
        'password_env = "DAV_PASSWORD" }',
    )
    text += person("d@x.example", calendar='{ provider = "vdir", path = "cal/d" }')
    org = load_org(write(tmp_path, text), env={})
    assert [c.provider for c in org.calendars.values()] == ["google", "ics", "caldav", "vdir"]
    assert org.calendars["c@x.example"].password_env == "DAV_PASSWORD"
    assert org.calendars["b@x.example"].url == "https://o.example/c.ics"


def test_a_caldav_address_holding_a_password_is_refused_without_repeating_it(
    tmp_path: Path,
) -> None:
    # The password comes only from password_env: one in the address would be in every
    # message that names the calendar's address.
    text = BASE + person(
        "a@x.example",
        calendar='{ provider = "caldav", url = "https://ana:hunter2-secret@dav.example/ana/", '
        'username = "ana", password_env = "DAV_PASSWORD" }',
    )
    text += person(
        "b@x.example",
        calendar='{ provider = "caldav", url = "webcal://dav.example/b/", username = "b", '
        'password_env = "DAV_PASSWORD" }',
    )
    found = problems(tmp_path, text)
    joined = "\n".join(found)
    assert "person[1] (a@x.example).calendar.url:" in joined and "password_env" in joined
    assert "hunter2" not in joined
    assert "person[2] (b@x.example).calendar.url:" in joined and "http or https" in joined
    # A user name alone in the address is no secret.
    alone = BASE + person(
        "a@x.example",
        calendar='{ provider = "caldav", url = "https://ana@dav.example/ana/", '
        'username = "ana", password_env = "DAV_PASSWORD" }',
    )
    assert load_org(write(tmp_path, alone), env={}).calendars["a@x.example"].url


def test_missing_calendar(tmp_path: Path) -> None:
    text = BASE + '[[person]]\nemail = "a@x.example"\n'
    sentence = one_problem(tmp_path, text)
    assert "person[1] (a@x.example).calendar: required key missing" in sentence
    assert 'provider = "vdir"' in sentence


def test_secret_in_password_env(tmp_path: Path) -> None:
    text = pair_team() + '[notify.email]\npassword_env = "hunter2!"\n'
    sentence = one_problem(tmp_path, text)
    assert "notify.email.password_env:" in sentence and "never the secret" in sentence


def test_wrong_types(tmp_path: Path) -> None:
    text = pair_team() + '[schedule]\nhorizon_weeks = "6"\nmakeup = "yes"\n'
    found = problems(tmp_path, text)
    assert any("schedule.horizon_weeks:" in s and "whole number" in s for s in found)
    assert any("schedule.makeup:" in s and "true or false" in s for s in found)


def test_bad_title_template(tmp_path: Path) -> None:
    text = pair_team() + '[defaults]\ntitle = "1:1 {boss} / {rep}"\n'
    sentence = one_problem(tmp_path, text)
    assert "defaults.title:" in sentence and "{manager}" in sentence


def test_missing_org_and_people(tmp_path: Path) -> None:
    found = problems(tmp_path, "[schedule]\nhorizon_weeks = 4\n")
    assert any("org:" in s and "[org]" in s for s in found)
    assert any("person:" in s and "[[person]]" in s for s in found)


def test_several_problems_are_listed_at_once(tmp_path: Path) -> None:
    text = '[org]\nname = "x"\ntimezone = "America/New_York"\ncountry = "XX"\n'
    text += '[close_window]\nrule = "sometimes"\n'
    text += person("a@x.example", timezone='"Nowhere/Land"')
    text += person("b@x.example", manager='"ghost@x.example"', weekday='"someday"')
    text += person("A@x.example")
    found = problems(tmp_path, text)
    keys = [
        "org.country:",
        "close_window.rule:",
        "person[1] (a@x.example).timezone:",
        "person[2] (b@x.example).weekday:",
        "person[3] (a@x.example).email:",
    ]
    for key in keys:
        assert any(key in sentence for sentence in found), (key, found)
    assert len(found) == len(keys)


# --------------------------------------------------------------------------- calendar folders


def test_problems_in_calendars(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    text = BASE + person("ok@x.example")
    text += person("file@x.example", calendar=f'{{ provider = "vdir", path = "{blocker}" }}')
    text += person(
        "under@x.example", calendar=f'{{ provider = "vdir", path = "{blocker / "sub"}" }}'
    )
    text += person("g@x.example", calendar='{ provider = "google" }')
    org = load_org(write(tmp_path, text), env={})
    found = problems_in_calendars(org)
    assert len(found) == 3, found
    assert "person[2] (file@x.example).calendar.path:" in found[0] and str(blocker) in found[0]
    assert "person[3] (under@x.example).calendar.path:" in found[1]
    # The Google person has no credentials set up (see the [google] tests below).
    assert "google.service_account_file:" in found[2]
    assert (tmp_path / "cal" / "ok").is_dir()


# --------------------------------------------------------------------------- [google]


def google_team(google: str = "") -> str:
    """A manager and a rep on Google Calendar, with ``google`` as the [google] table's body."""
    text = (
        BASE
        + person("boss@x.example", calendar='{ provider = "google" }')
        + person("rep@x.example", manager='"boss@x.example"', calendar='{ provider = "google" }')
    )
    return text + (f"[google]\n{google}" if google else "")


def service_account_key(path: Path) -> Path:
    """A real (freshly generated) service account JSON key at ``path``."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "oneonone@acme.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def test_google_settings_default_when_the_table_is_left_out(example: Org) -> None:
    assert example.google.service_account_file is None
    assert example.google.oauth_client_file is None
    assert example.google.token_file == example.data_dir / "google-token.json"
    assert example.google.api_endpoint is None


def test_google_paths_resolve_against_the_files_folder(tmp_path: Path) -> None:
    text = google_team(
        'service_account_file = "secrets/sa.json"\n'
        'oauth_client_file = "secrets/client.json"\n'
        'token_file = "state/token.json"\n'
        'api_endpoint = "http://127.0.0.1:8085/"\n'
    )
    org = load_org(write(tmp_path, text), env={})
    assert org.google.service_account_file == tmp_path / "secrets" / "sa.json"
    assert org.google.oauth_client_file == tmp_path / "secrets" / "client.json"
    assert org.google.token_file == tmp_path / "state" / "token.json"
    assert org.google.api_endpoint == "http://127.0.0.1:8085/"
    # Each Google calendar carries the same settings, for the provider.
    assert org.calendars["rep@x.example"].google == org.google


def test_google_api_endpoint_must_be_http_or_https(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, google_team('api_endpoint = "ftp://127.0.0.1/"\n'))
    assert "google.api_endpoint: 'ftp://127.0.0.1/' is not an http or https address" in sentence
    sentence = one_problem(tmp_path, google_team('api_endpoint = "http://h/x?key=1"\n'))
    assert "google.api_endpoint:" in sentence and "without a query" in sentence


def test_google_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    sentence = one_problem(tmp_path, google_team('service_account = "sa.json"\n'))
    assert "google.service_account: unknown key 'service_account'" in sentence
    assert "did you mean 'service_account_file'?" in sentence


def test_env_overrides_google_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, google_team('service_account_file = "from-file.json"\n'))
    env = {
        # Relative to the current folder, like --config: the deployment sets it.
        "ONEONONE_GOOGLE__SERVICE_ACCOUNT_FILE": "mounted/sa.json",
        "ONEONONE_GOOGLE__API_ENDPOINT": "http://127.0.0.1:9000",
        "ONEONONE_GOOGLE__TOKEN_FILE": "/run/secrets/token.json",
    }
    org = load_org(path, env=env)
    assert org.google.service_account_file == tmp_path / "mounted" / "sa.json"
    assert org.google.api_endpoint == "http://127.0.0.1:9000"
    assert org.google.token_file == Path("/run/secrets/token.json")
    assert org.calendars["boss@x.example"].google == org.google


def test_bad_google_api_endpoint_in_env_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, google_team())
    with pytest.raises(UserError) as caught:
        load_org(path, env={"ONEONONE_GOOGLE__API_ENDPOINT": "127.0.0.1:9000"})
    [sentence] = caught.value.problems
    assert sentence.startswith("ONEONONE_GOOGLE__API_ENDPOINT: '127.0.0.1:9000' is not an http")


def test_google_people_without_credentials_are_told_what_to_set(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, google_team()), env={})
    [sentence] = problems_in_calendars(org)
    assert sentence.startswith(f"{tmp_path / 'org.toml'}: google.service_account_file:")
    assert "person[1] (boss@x.example) and 1 more" in sentence
    assert "domain-wide delegation" in sentence
    assert "oneonone auth google --email" in sentence
    assert str(tmp_path / "data" / "google-token.json") in sentence


def test_google_service_account_key_is_checked(tmp_path: Path) -> None:
    service_account_key(tmp_path / "sa.json")
    org = load_org(write(tmp_path, google_team('service_account_file = "sa.json"\n')), env={})
    assert problems_in_calendars(org) == []

    (tmp_path / "sa.json").write_text('{"type": "authorized_user"}', encoding="utf-8")
    [sentence] = problems_in_calendars(org)
    assert "google.service_account_file:" in sentence and "not a service account key" in sentence

    (tmp_path / "sa.json").unlink()
    [sentence] = problems_in_calendars(org)
    assert "google.service_account_file:" in sentence and "does not exist" in sentence


def test_google_broken_private_key_is_reported_without_quoting_it(tmp_path: Path) -> None:
    import json

    info = json.loads(service_account_key(tmp_path / "sa.json").read_text())
    info["private_key"] = (
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n"
    )
    (tmp_path / "sa.json").write_text(json.dumps(info))
    org = load_org(write(tmp_path, google_team('service_account_file = "sa.json"\n')), env={})
    [sentence] = problems_in_calendars(org)
    assert "private key that cannot be read" in sentence and "c2VjcmV0" not in sentence


def test_google_token_file_covers_only_its_organizer(tmp_path: Path) -> None:
    import json

    token = {
        "token": "ya29.secret-access",
        "refresh_token": "1//secret-refresh",
        "client_id": "client.apps.googleusercontent.com",
        "client_secret": "client-secret",
        "oneonone_email": "boss@x.example",
    }
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "google-token.json").write_text(json.dumps(token))
    org = load_org(write(tmp_path, google_team()), env={})
    [sentence] = problems_in_calendars(org)
    assert "google.service_account_file:" in sentence
    assert "is for boss@x.example only" in sentence and "rep@x.example" in sentence
    assert "secret" not in sentence


def test_google_missing_oauth_client_file_is_reported(tmp_path: Path) -> None:
    service_account_key(tmp_path / "sa.json")
    text = google_team('service_account_file = "sa.json"\noauth_client_file = "client.json"\n')
    org = load_org(write(tmp_path, text), env={})
    [sentence] = problems_in_calendars(org)
    assert "google.oauth_client_file:" in sentence and "Desktop app" in sentence

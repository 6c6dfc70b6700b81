"""The environment overrides any key of the org file's tables, through the file's own models."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.errors import UserError
from scheduler.orgfile import EXAMPLE_PATH, load_org
from scheduler.settings import load_settings, section_variables

BAD_WEEKS = "ONEONONE_SCHEDULE__HORIZON_WEEKS: 'abc' is not a whole number"


def problems(env: dict[str, str], path: Path = EXAMPLE_PATH) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_org(path, env=env)
    return caught.value.problems


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example org in a fresh folder, with no ONEONONE_* variable from the outside."""
    for name in list(os.environ):
        if name.upper().startswith("ONEONONE_"):
            monkeypatch.delenv(name)
    target = tmp_path / "oneonone.toml"
    target.write_bytes(EXAMPLE_PATH.read_bytes())
    return target


def test_a_bad_value_is_a_sentence_naming_the_variable() -> None:
    [problem] = problems({"ONEONONE_SCHEDULE__HORIZON_WEEKS": "abc"})
    assert problem.startswith(BAD_WEEKS)
    assert "without quotes" not in problem  # TOML's advice; a variable has no quotes


def test_a_value_out_of_range_says_the_range() -> None:
    [problem] = problems({"ONEONONE_SCHEDULE__HORIZON_WEEKS": "0"})
    assert problem == "ONEONONE_SCHEDULE__HORIZON_WEEKS: 0 is too small; use 1 or more."


def test_a_bad_value_of_a_nested_table_or_a_choice_names_its_variable() -> None:
    env = {
        "ONEONONE_NOTIFY__EMAIL__PORT": "smtp",
        "ONEONONE_CLOSE_WINDOW__POLICY": "sideways",
        "ONEONONE_SCHEDULE__MAKEUP": "maybe",
        "ONEONONE_SERVER__BIND": "everywhere",
    }
    found = sorted(problems(env))
    assert found[0].startswith("ONEONONE_CLOSE_WINDOW__POLICY: 'sideways' is not allowed")
    assert found[1].startswith("ONEONONE_NOTIFY__EMAIL__PORT: 'smtp' is not a whole number")
    assert found[2].startswith("ONEONONE_SCHEDULE__MAKEUP: 'maybe' is not true or false")
    assert found[3].startswith("ONEONONE_SERVER__BIND: 'everywhere' is not an address")


def test_a_check_across_keys_names_the_variable_that_broke_it() -> None:
    [problem] = problems({"ONEONONE_ESCALATION__WINDOW_MISSES": "9"})
    assert problem.startswith("ONEONONE_ESCALATION__WINDOW_MISSES: 9 misses can never happen")


def test_good_values_take_effect() -> None:
    env = {
        "ONEONONE_SCHEDULE__HORIZON_WEEKS": "8",
        "ONEONONE_SCHEDULE__MAKEUP": "false",
        "ONEONONE_CLOSE_WINDOW__POLICY": "shift",
        "ONEONONE_CLOSE_WINDOW__YEAR_START": "2026-01-04",
        "ONEONONE_ESCALATION__ESCALATE_AFTER": "3",
        "ONEONONE_ORG__WORKDAYS": '["mon", "tue", "wed", "thu"]',
        "ONEONONE_DEFAULTS__TITLE": "Weekly {manager} & {rep}",
        "ONEONONE_NOTIFY__SLACK__WEBHOOK_URL_ENV": "SLACK_HOOK",
    }
    org = load_org(EXAMPLE_PATH, env=env)
    assert org.schedule.horizon_weeks == 8
    assert org.schedule.makeup is False
    assert org.calendar.close_window.policy == "shift"
    assert org.calendar.close_window.year_start == dt.date(2026, 1, 4)
    assert org.escalation.escalate_after == 3
    assert org.calendar.workdays == frozenset({0, 1, 2, 3})
    assert org.title_template == "Weekly {manager} & {rep}"
    assert org.slack_webhook_env == "SLACK_HOOK"


def test_the_documented_deployment_variables_still_work() -> None:
    env = {
        "ONEONONE_DATABASE_URL": "postgresql://db/oneonone",
        "ONEONONE_SERVER__BIND": "0.0.0.0:8321",
        "ONEONONE_SERVER__PUBLIC_URL": "https://oneonone.acme.example/",
        "ONEONONE_NOTIFY__EMAIL__HOST": "smtp.acme.example",
        "ONEONONE_NOTIFY__EMAIL__PORT": "25",
        "ONEONONE_NOTIFY__EMAIL__STARTTLS": "no",
        "ONEONONE_NOTIFY__EMAIL__USERNAME": "12345",
        "ONEONONE_NOTIFY__EMAIL__FROM": "Sales 1:1s <sales@acme.example>",
    }
    org = load_org(EXAMPLE_PATH, env=env)
    assert org.database_url == "postgresql://db/oneonone"
    assert (org.server.host, org.server.port) == ("0.0.0.0", 8321)
    assert org.server.public_url == "https://oneonone.acme.example"
    assert (org.email.host, org.email.port, org.email.starttls) == ("smtp.acme.example", 25, False)
    # A key that takes text keeps digits as text.
    assert org.email.username == "12345"
    assert org.email.sender == "Sales 1:1s <sales@acme.example>"
    assert org.email.password_env == "ONEONONE_SMTP_PASSWORD"


def test_the_environment_wins_over_the_file_and_both_are_reported(tmp_path: Path) -> None:
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    path = tmp_path / "org.toml"
    path.write_text(text.replace("freeze_hours = 48", "freeze_hours = -1"), "utf-8")
    found = problems({"ONEONONE_SCHEDULE__HORIZON_WEEKS": "abc"}, path)
    assert any(p.startswith(f"{path}: schedule.freeze_hours: -1 is too small") for p in found)
    assert any(p.startswith(BAD_WEEKS) for p in found)

    path.write_text(text.replace("horizon_weeks = 6", "horizon_weeks = 4"), "utf-8")
    assert load_org(path, env={}).schedule.horizon_weeks == 4
    env = {"ONEONONE_SCHEDULE__HORIZON_WEEKS": "10"}
    assert load_org(path, env=env).schedule.horizon_weeks == 10


def test_an_empty_variable_is_unset() -> None:
    org = load_org(EXAMPLE_PATH, env={"ONEONONE_SCHEDULE__HORIZON_WEEKS": ""})
    assert org.schedule.horizon_weeks == load_org(EXAMPLE_PATH, env={}).schedule.horizon_weeks


def test_other_variables_and_people_are_left_alone() -> None:
    env = {
        "ONEONONE_SMTP_PASSWORD": "secret",
        "ONEONONE_SCHEDULE__NO_SUCH_KEY": "1",
        "ONEONONE_NO_SUCH_TABLE__KEY": "1",
        "ONEONONE_NOTIFY__EMAIL": "a table, not a key",
        "ONEONONE_PERSON": "[]",
        "ONEONONE_PERSON__EMAIL": "not-an-address",
        "ONEONONE_SCHEDULE": "horizon_weeks = 2",
        "ONEONONE_": "x",
    }
    org, plain = load_org(EXAMPLE_PATH, env=env), load_org(EXAMPLE_PATH, env={})
    assert (org.schedule, org.escalation, org.email, org.server, org.google) == (
        plain.schedule,
        plain.escalation,
        plain.email,
        plain.server,
        plain.google,
    )
    assert (org.people, org.pairs, org.calendars) == (plain.people, plain.pairs, plain.calendars)


def test_names_are_read_without_regard_to_case() -> None:
    org = load_org(EXAMPLE_PATH, env={"oneonone_schedule__horizon_weeks": "3"})
    assert org.schedule.horizon_weeks == 3
    [variable] = section_variables({"oneonone_schedule__horizon_weeks": "3"})
    assert variable.path == ("schedule", "horizon_weeks")


def test_paths_from_the_environment_are_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "ONEONONE_ORG__DATA_DIR": "state",
        "ONEONONE_AGENDA__TEMPLATE": "templates/agenda.md",
        "ONEONONE_GOOGLE__TOKEN_FILE": "/run/secrets/token.json",
    }
    org = load_org(EXAMPLE_PATH, env=env)
    assert org.data_dir == tmp_path / "state"
    assert org.database_url == f"sqlite:///{tmp_path / 'state' / 'state.db'}"
    assert org.agenda.template == tmp_path / "templates" / "agenda.md"
    assert org.google.token_file == Path("/run/secrets/token.json")


def test_settings_of_their_own_still_come_from_the_environment() -> None:
    settings = load_settings({"ONEONONE_CONFIG": "x.toml", "ONEONONE_SCHEDULE__X": "1"})
    assert settings.config == Path("x.toml")


def test_a_bad_variable_stops_the_command_with_exit_1_and_no_traceback(
    example: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEONONE_SCHEDULE__HORIZON_WEEKS", "abc")
    assert main(["plan", "--config", str(example), "--now", "2026-03-02T09:00"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"oneonone: {BAD_WEEKS}")
    assert "Traceback" not in err


def test_a_good_variable_changes_what_the_command_does(
    example: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEONONE_SCHEDULE__HORIZON_WEEKS", "2")
    assert main(["plan", "--json", "--config", str(example), "--now", "2026-03-02T09:00"]) == 0
    weeks = {item["week"] for item in json.loads(capsys.readouterr().out)["occurrences"]}
    assert weeks == {"2026-W10", "2026-W11"}


# --------------------------------------------------------------------------- byte order mark


def test_a_byte_order_mark_at_the_start_of_the_org_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE_PATH.read_bytes())
    org = load_org(path, env={})
    assert org.name == load_org(EXAMPLE_PATH, env={}).name
    assert len(org.people) == len(load_org(EXAMPLE_PATH, env={}).people)


def test_with_a_byte_order_mark_syntax_errors_still_say_where(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_bytes(b"\xef\xbb\xbf[org]\nname = Acme\n")
    [problem] = problems({}, path)
    assert problem.startswith(f"{path}: TOML syntax error at line 2, column 8")

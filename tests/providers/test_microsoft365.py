"""The Microsoft 365 provider's own behaviour: sign-in sentences, Retry-After, delta state,
Windows zones, the ``[microsoft365]`` table and mixed orgs (the shared contract is in
tests/contract/test_microsoft365.py; each test starts a Graph emulator on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler import ical
from scheduler.domain import Person
from scheduler.domain.settings import Microsoft365Settings
from scheduler.errors import AuthError, UserError
from scheduler.orgfile import load_org, problems_in_calendars
from scheduler.providers.microsoft365 import zones
from scheduler.providers.microsoft365.auth import clear_cache, token_source
from scheduler.providers.microsoft365.client import GraphClient, GraphRequest
from scheduler.providers.microsoft365.provider import Microsoft365Provider, Microsoft365Session
from tests.graph_emulator import GraphEmulator

MIA = Person("mia@example.com", "Mia Manager", "America/New_York")
ANA = Person("ana@example.com", "Ana Rep", "Europe/Berlin")
VAR = "TEST_M365_SECRET_VARIABLE"
NOW = datetime(2027, 1, 4, 13, 0, tzinfo=UTC)


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator().start()
    for person in (MIA, ANA):
        emulator.add_user(person.email, time_zone=person.timezone)
    clear_cache()
    try:
        yield emulator
    finally:
        clear_cache()
        emulator.stop()


def _settings(emu: GraphEmulator) -> Microsoft365Settings:
    return Microsoft365Settings(
        tenant_id=emu.tenant,
        client_id=emu.client_id,
        client_secret_env=VAR,
        authority=emu.authority,
        graph_endpoint=emu.graph_url,
        ca_file=emu.ca_file,
    )


def test_a_wrong_secret_is_a_sentence_naming_the_app_and_the_variable_never_the_secret(
    emu: GraphEmulator,
) -> None:
    with pytest.raises(AuthError) as refused:
        token_source(_settings(emu), env={VAR: "wrong-secret-value"})()
    message = str(refused.value)
    assert VAR in message and emu.client_id in message and "invalid_client" in message
    assert "wrong-secret-value" not in message


def test_an_unset_secret_variable_is_named(emu: GraphEmulator) -> None:
    with pytest.raises(AuthError, match=VAR):
        token_source(_settings(emu), env={})()


def test_a_401_from_graph_names_the_mailbox_and_the_variable(emu: GraphEmulator) -> None:
    client = GraphClient(
        lambda: "not-a-token", emu.graph_url, ca_file=str(emu.ca_file), secret_env=VAR
    )
    try:
        with pytest.raises(AuthError) as refused:
            client.call(
                MIA.email, GraphRequest("GET", f"/users/{MIA.email}/mailboxSettings"), what="x"
            )
    finally:
        client.close()
    assert MIA.email in str(refused.value) and VAR in str(refused.value)


def test_throttling_is_retried_after_the_seconds_retry_after_says(emu: GraphEmulator) -> None:
    waited: list[float] = []
    client = GraphClient(
        token_source(_settings(emu), env={VAR: emu.client_secret}),
        emu.graph_url,
        ca_file=str(emu.ca_file),
        sleep=waited.append,
    )
    emu.faults.retry_after = 3
    emu.faults.fail_next(1, "429")
    emu.faults.fail_next(1, "503")
    try:
        found = client.call(
            MIA.email, GraphRequest("GET", f"/users/{MIA.email}/mailboxSettings"), what="x"
        )
    finally:
        client.close()
    assert found["timeZone"] == "Eastern Standard Time"
    assert waited == [3.0, 3.0]
    assert client.requests[MIA.email] == 3


def test_a_lost_delta_state_means_a_full_read_and_nothing_lost(emu: GraphEmulator) -> None:
    client = GraphClient(
        token_source(_settings(emu), env={VAR: emu.client_secret}),
        emu.graph_url,
        ca_file=str(emu.ca_file),
        sleep=lambda seconds: None,
    )
    session = Microsoft365Session(client, {MIA.email: MIA, ANA.email: ANA}, {MIA.email})
    provider = Microsoft365Provider(session, MIA.email)
    start = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)
    emu.act(MIA.email).create(
        {
            "subject": "dentist",
            "start": {"dateTime": start.isoformat()[:19], "timeZone": "UTC"},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()[:19], "timeZone": "UTC"},
        }
    )
    window = (NOW, NOW + timedelta(days=7))
    try:
        session.begin(NOW, persist=False, store=None)
        assert provider.read(MIA, *window).object_count == 1
        emu.expire_delta_tokens()
        session.begin(NOW + timedelta(hours=1), persist=False, store=None)
        again = provider.read(MIA, *window)
    finally:
        client.close()
    assert again.object_count == 1
    assert (start, start + timedelta(hours=1)) in again.busy


def test_windows_zone_names_map_to_iana_ones_from_cldr() -> None:
    assert zones.iana_name("W. Europe Standard Time") == "Europe/Berlin"
    assert zones.iana_name("Eastern Standard Time") == "America/New_York"
    assert zones.iana_name("Europe/Lisbon") == "Europe/Lisbon"
    assert zones.iana_name("Not A Zone") is None
    assert zones.windows_name("America/Chicago") == "Central Standard Time"


def _org(tmp_path: Path, manager: str, rep: str, table: str) -> Path:
    path = tmp_path / "oneonone.toml"
    path.write_text(
        f"""
[org]
name = "Mixed"
timezone = "America/New_York"
{table}
[[person]]
email = "mia@example.com"
calendar = {manager}

[[person]]
email = "ana@example.com"
manager = "mia@example.com"
calendar = {rep}
"""
    )
    return path


TABLE = """
[microsoft365]
tenant_id = "t"
client_id = "c"
client_secret_env = "TEST_M365_UNSET_VARIABLE"
"""


def test_the_org_file_takes_a_microsoft365_table_and_check_names_what_is_missing(
    tmp_path: Path,
) -> None:
    org = load_org(
        _org(tmp_path, '{ provider = "microsoft365" }', '{ provider = "microsoft365" }', TABLE),
        env={},
    )
    assert org.calendars["ana@example.com"].provider == "microsoft365"
    assert org.microsoft365.graph_url == "https://graph.microsoft.com/v1.0"
    assert org.microsoft365.authority_url == "https://login.microsoftonline.com/t"
    problems = problems_in_calendars(org)
    assert any("TEST_M365_UNSET_VARIABLE" in p for p in problems), problems


def test_an_unknown_key_in_the_table_is_refused(tmp_path: Path) -> None:
    path = _org(
        tmp_path,
        '{ provider = "microsoft365" }',
        '{ provider = "microsoft365" }',
        TABLE + 'client_secret = "pasted-here"\n',
    )
    with pytest.raises(UserError, match="client_secret"):
        load_org(path, env={})


def test_a_rep_on_microsoft365_with_a_manager_elsewhere_is_named_by_check(
    tmp_path: Path,
    emu: GraphEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scheduler.cli import main

    table = TABLE.replace('"t"', f'"{emu.tenant}"').replace('"c"', f'"{emu.client_id}"')
    table = table.replace("TEST_M365_UNSET_VARIABLE", VAR)
    (tmp_path / "ca.pem").write_bytes(emu.ca_file.read_bytes())
    table += f'authority = "{emu.authority}"\ngraph_endpoint = "{emu.graph_url}"\n'
    table += 'ca_file = "ca.pem"\n'
    monkeypatch.setenv(VAR, emu.client_secret)
    emu.add_user("mia@example.com")
    path = _org(
        tmp_path, '{ provider = "vdir", path = "mia" }', '{ provider = "microsoft365" }', table
    )
    assert main(["check", "--config", str(path)]) == 1
    said = capsys.readouterr().err
    assert "ana@example.com is on Microsoft 365 but their manager mia@example.com is not" in said


def test_a_manager_on_microsoft365_keeps_the_series_of_a_rep_on_vdir(
    tmp_path: Path, emu: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.providers.microsoft365 import forget_sessions
    from scheduler.store.ledger import Ledger
    from scheduler.sync import run_pass

    table = TABLE.replace('"t"', f'"{emu.tenant}"').replace('"c"', f'"{emu.client_id}"')
    table = table.replace("TEST_M365_UNSET_VARIABLE", VAR)
    (tmp_path / "ca.pem").write_bytes(emu.ca_file.read_bytes())
    table += f'authority = "{emu.authority}"\ngraph_endpoint = "{emu.graph_url}"\n'
    table += 'ca_file = "ca.pem"\n'
    monkeypatch.setenv(VAR, emu.client_secret)
    path = _org(
        tmp_path, '{ provider = "microsoft365" }', '{ provider = "vdir", path = "ana" }', table
    )
    forget_sessions()
    org = load_org(path, env={})
    ledger = Ledger(org.database_url)
    try:
        result = run_pass(org, ledger, NOW, apply=True, env={})
        assert not result.problems, result.problems
        [series] = [i for i in emu.items(MIA.email) if i.is_series]
        assert series.data["attendees"][0]["emailAddress"]["address"] == "ana@example.com"
        assert list((tmp_path / "ana").glob("*.ics"))  # the rep's copy, written by the product
        again = run_pass(org, ledger, NOW + timedelta(minutes=5), apply=True, env={})
        assert again.written == 0
    finally:
        ledger.close()
        forget_sessions()


def test_a_restart_goes_on_from_the_delta_state_kept_in_the_ledger(
    tmp_path: Path, emu: GraphEmulator
) -> None:
    from tests.system.m365_world import M365World

    world = M365World(tmp_path / "org", emu)
    try:
        world.sync(NOW)
        world.sync(NOW + timedelta(minutes=5))
        world.restart()  # a new process: no session, no token, no cache
        emu.reset_counts()
        result = world.sync(NOW + timedelta(minutes=10))
        assert result.written == 0
        kinds = [kind for _, _, kind in emu.requests_log]
        # One delta part per organizer (in one $batch), no full read, no master fetched.
        organizers = {pair.manager.email for pair in world.org.pairs}
        assert kinds.count("delta") == len(organizers)
        assert "events" not in kinds  # a full read would fetch every master again
    finally:
        world.close()
        world.forget_passwords()


@pytest.mark.slow  # ten weeks of passes: 17 s
def test_a_year_of_agendas_costs_no_more_requests_than_a_month(
    tmp_path: Path, emu: GraphEmulator
) -> None:
    """When a series' words change, only the weeks whose agenda links the series still holds
    are patched (``ical.AGENDA_LINKS_KEPT``), and the weeks it let go keep their link: patching
    every past week's words grew by a request per week of history (62, then 68 patches for 8
    series in weeks 8 and 9; issue 17)."""
    from tests.system.m365_world import M365World

    world = M365World(tmp_path / "org", emu)
    try:
        monday = datetime(2027, 1, 4, 13, 0, tzinfo=UTC)
        patches: list[tuple[int, int]] = []  # (series written, PATCH requests) of a pass
        for week in range(10):
            for days in (0, 1, 2):  # Monday, and the days the week's agendas are due
                emu.reset_counts()
                result = world.sync(monday + timedelta(weeks=week, days=days))
                if week >= 7 and result.written:
                    sent = sum(method == "PATCH" for _, method, _ in emu.requests_log)
                    patches.append((result.written, sent))
        # Each series written: its master, the weeks still carrying their link, and the week
        # that gets its agenda; never a week the series let go.
        assert patches and all(sent <= w * (ical.AGENDA_LINKS_KEPT + 2) for w, sent in patches)
        # Ana's first agenda (12 January), let go weeks ago, is still on its week.
        week2 = datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
        assert week2 in world.series_attachments("marco", "marco", "ana")
    finally:
        world.close()
        world.forget_passwords()

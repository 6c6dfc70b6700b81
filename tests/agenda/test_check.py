"""`oneonone check` reports a broken agenda template with its file and line, and pipeline CSV
rows it cannot use with theirs; the org file's [agenda] paths are relative to its folder."""

from __future__ import annotations

from pathlib import Path

from scheduler.agenda import DEFAULT_TEMPLATE
from scheduler.orgfile import load_org
from tests.system.helpers import REPO, oneonone


def _org(tmp_path: Path, **agenda: str) -> Path:
    """The example org file with the [agenda] keys given set."""
    text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
    for key, value in agenda.items():
        old = f'{key} = ""\n'
        assert old in text
        text = text.replace(old, f'{key} = "{value}"\n', 1)
    config = tmp_path / "oneonone.toml"
    config.write_text(text)
    return config


def test_the_default_template_and_no_csvs(tmp_path: Path) -> None:
    org = load_org(_org(tmp_path), env={})
    assert org.agenda.template == DEFAULT_TEMPLATE
    assert org.agenda.pipeline_csv is None and org.agenda.metrics_csv is None


def test_check_names_the_template_line_and_the_csv_line(tmp_path: Path) -> None:
    (tmp_path / "agendas").mkdir()
    (tmp_path / "agendas" / "mine.md.j2").write_text("# {{ rep_name }}\n\n{% if %}\n")
    (tmp_path / "deals.csv").write_text(
        "rep_email,account,amount,stage,next_step,close_date\n"
        "ana@acme.example,Globex,120000,Proposal,Call,2027-02-26\n"
        "ana@acme.example,Initech,lots,Proposal,Call,2027-02-26\n"
    )
    config = _org(tmp_path, template="agendas/mine.md.j2", pipeline_csv="deals.csv")
    org = load_org(config, env={})
    assert org.agenda.template == tmp_path / "agendas" / "mine.md.j2"
    done = oneonone(config, "check")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "mine.md.j2, line 3" in done.stderr
    assert "deals.csv" in done.stderr and "line 3" in done.stderr


def _with_pair_template(tmp_path: Path, rep: str, template: str) -> Path:
    """The example org with ``rep``'s 1:1 pointed at its own agenda template."""
    config = _org(tmp_path)
    text = config.read_text()
    line = f'email = "{rep}"\n'
    assert line in text
    config.write_text(text.replace(line, f'{line}agenda_template = "{template}"\n', 1))
    return config


def test_a_pair_can_have_its_own_template_and_check_reads_it(tmp_path: Path) -> None:
    (tmp_path / "agendas").mkdir()
    (tmp_path / "agendas" / "sam.md.j2").write_text("# {{ rep_name }}\n{% for %}\n")
    config = _with_pair_template(tmp_path, "sam@acme.example", "agendas/sam.md.j2")
    org = load_org(config, env={})
    own = tmp_path / "agendas" / "sam.md.j2"
    assert org.agenda.template_for("marco@acme.example/sam@acme.example") == own
    assert org.agenda.template_for("marco@acme.example/ana@acme.example") == DEFAULT_TEMPLATE
    done = oneonone(config, "check")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "sam.md.j2, line 2" in done.stderr


def test_a_pairs_own_template_writes_its_agendas(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.system.world import VdirWorld

    (tmp_path / "org" / "agendas").mkdir(parents=True)
    (tmp_path / "org" / "agendas" / "sam.md.j2").write_text(
        "# Sam's own agenda with {{ manager_name }}\n\n## Action items\n"
        "{% for item in open_items %}- [ ] {{ item }}\n{% endfor %}"
    )
    _with_pair_template(tmp_path / "org", "sam@acme.example", "agendas/sam.md.j2")
    world = VdirWorld.from_file(tmp_path / "org" / "oneonone.toml")
    try:
        world.sync(datetime(2027, 1, 4, 8, 0, tzinfo=ZoneInfo("America/New_York")))
        sam = world.agenda_text("marco", "sam", "2027-01-05")
        ana = world.agenda_text("marco", "ana", "2027-01-05")
        assert sam is not None and sam.startswith("# Sam's own agenda with Marco")
        assert ana is not None and "Sam's own agenda" not in ana
    finally:
        world.close()

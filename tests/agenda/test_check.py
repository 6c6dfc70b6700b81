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

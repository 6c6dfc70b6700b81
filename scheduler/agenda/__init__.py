"""Agenda documents: the pure core of rendering them and reading them back.

- ``template``: load, render and check the admin's Jinja2 agenda template (sandboxed).
- ``context``: ``AgendaContext``, everything one occurrence's agenda is rendered with.
- ``pipeline``: the deals and metrics CSVs, and the rep's open deals and metrics vs benchmarks.
- ``items``: the action items in an edited agenda, matched with the ledger's open items.

No I/O except reading the template and CSV files in ``load_template``, ``check_template``,
``read_deals`` and ``read_metrics``; nothing reads the clock.

Agendas in the pass live in three modules imported on their own (not re-exported here):
``plan`` (pure: which sessions are due a document, what reading one back does to the action
items, how documents are linked from events), ``store`` (the ``AgendaStore`` protocol and the
Markdown-folder store) and ``publish`` (the I/O, called by ``scheduler.sync``).

Exports: AgendaContext, sample_context, AgendaTemplate, TemplateProblem, load_template,
check_template, DEFAULT_TEMPLATE, Deal, Metric, DealLine, MetricLine, read_deals, read_metrics,
deal_summary, metric_lines, is_closed_stage, Item, TrackedItem, Match, CarryResult, parse_items,
carry_over.
"""

from __future__ import annotations

from pathlib import Path

from scheduler.agenda.context import AgendaContext, sample_context
from scheduler.agenda.items import (
    CarryResult,
    Item,
    Match,
    TrackedItem,
    carry_over,
    parse_items,
)
from scheduler.agenda.pipeline import (
    Deal,
    DealLine,
    Metric,
    MetricLine,
    deal_summary,
    is_closed_stage,
    metric_lines,
    read_deals,
    read_metrics,
)
from scheduler.agenda.template import (
    AgendaTemplate,
    TemplateProblem,
    check_template,
    load_template,
)

__all__ = [
    "DEFAULT_TEMPLATE",
    "AgendaContext",
    "AgendaTemplate",
    "CarryResult",
    "Deal",
    "DealLine",
    "Item",
    "Match",
    "Metric",
    "MetricLine",
    "TemplateProblem",
    "TrackedItem",
    "carry_over",
    "check_template",
    "deal_summary",
    "is_closed_stage",
    "load_template",
    "metric_lines",
    "parse_items",
    "read_deals",
    "read_metrics",
    "sample_context",
]

#: The packaged default agenda template (``config/agendas/default.md.j2`` is the same file).
DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "examples" / "agendas" / "default.md.j2"

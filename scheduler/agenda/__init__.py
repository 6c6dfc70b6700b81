"""Agenda documents: the pure core of rendering them and reading them back.

- ``context``: ``AgendaContext``, everything one occurrence's agenda is rendered with.
- ``pipeline``: the deals and metrics CSVs, and the rep's open deals and metrics vs benchmarks.
- ``items``: the action items in an edited agenda, matched with the ledger's open items.

No I/O except reading the CSV files in ``read_deals`` and ``read_metrics``; nothing reads the
clock. Importing this package loads no Jinja2, SQLAlchemy or pydantic (a test asserts it).

Imported on their own (not re-exported here):
- ``template``: load, render and check the admin's Jinja2 agenda template (sandboxed); it is
  the one agenda module that loads Jinja2, and reads the template file.
- Agendas in the pass: ``plan`` (pure: which sessions are due a document, what reading one back
  does to the action items, how documents are linked from events), ``store`` (the
  ``AgendaStore`` protocol and the Markdown-folder store) and ``publish`` (the I/O, called by
  ``scheduler.sync``).

Exports: AgendaContext, sample_context, DEFAULT_TEMPLATE, Deal, Metric, DealLine, MetricLine,
read_deals, read_metrics, deal_summary, metric_lines, is_closed_stage, Item, TrackedItem, Match,
CarryResult, parse_items, carry_over.
"""

from __future__ import annotations

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
from scheduler.domain.settings import DEFAULT_TEMPLATE

__all__ = [
    "DEFAULT_TEMPLATE",
    "AgendaContext",
    "CarryResult",
    "Deal",
    "DealLine",
    "Item",
    "Match",
    "Metric",
    "MetricLine",
    "TrackedItem",
    "carry_over",
    "deal_summary",
    "is_closed_stage",
    "metric_lines",
    "parse_items",
    "read_deals",
    "read_metrics",
    "sample_context",
]

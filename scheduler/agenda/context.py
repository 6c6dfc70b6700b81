"""What an agenda template is rendered with: one frozen ``AgendaContext`` per occurrence.

Pure: a value object validated at construction, so a template can trust what it is given and
a bad caller fails here, in Python, rather than as a confusing template error.

Exports: AgendaContext, sample_context.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from scheduler.agenda.pipeline import DealLine, MetricLine

__all__ = ["AgendaContext", "sample_context"]

_WEEK_RE = re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")


def _one_line(text: str) -> str:
    """Collapse all whitespace, line breaks included: an item is rendered as one ``- [ ]`` line,
    and a line break inside it would split it in two when the document is read back."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class AgendaContext:
    """One occurrence's agenda: who, when, the open items, the previous agenda, the pipeline.

    ``start`` must be aware; ``zone`` is where it is shown (the rep's, since the rep prepares
    the agenda). ``open_items`` are collapsed to one line each and empty ones are dropped.
    Sequences are stored as tuples so the context is immutable and hashable.
    """

    manager_name: str
    manager_email: str
    rep_name: str
    rep_email: str
    start: datetime
    zone: ZoneInfo
    week: str
    open_items: Sequence[str] = ()
    previous_link: str | None = None
    deals: Sequence[DealLine] = ()
    metrics: Sequence[MetricLine] = ()
    pipeline_problems: Sequence[str] = ()

    def __post_init__(self) -> None:
        for name in ("manager_name", "manager_email", "rep_name", "rep_email"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"agenda context {name} is empty")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError(f"agenda start {self.start.isoformat()} has no time zone")
        if not _WEEK_RE.match(self.week):
            raise ValueError(f"agenda week {self.week!r} is not an ISO week such as 2027-W05")
        if self.previous_link is not None and not self.previous_link.strip():
            object.__setattr__(self, "previous_link", None)
        items = tuple(t for t in (_one_line(text) for text in self.open_items) if t)
        object.__setattr__(self, "open_items", items)
        object.__setattr__(self, "deals", tuple(self.deals))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "pipeline_problems", tuple(self.pipeline_problems))

    @property
    def local_start(self) -> datetime:
        """The session's start in ``zone``."""
        return self.start.astimezone(self.zone)

    @property
    def session_date(self) -> str:
        """``Tuesday 2 March 2027``: no leading zero, no locale-dependent order."""
        local = self.local_start
        return f"{local:%A} {local.day} {local:%B %Y}"

    @property
    def session_time(self) -> str:
        """``10:00 EST``: 24-hour clock and the zone's abbreviation at that instant."""
        local = self.local_start
        return f"{local:%H:%M} {local.tzname() or self.zone.key}"

    def variables(self) -> dict[str, object]:
        """The names a template sees; ``check_template`` and the docs list exactly these."""
        return {
            "manager_name": self.manager_name,
            "manager_email": self.manager_email,
            "rep_name": self.rep_name,
            "rep_email": self.rep_email,
            "start": self.local_start,
            "zone": self.zone.key,
            "session_date": self.session_date,
            "session_time": self.session_time,
            "week": self.week,
            "open_items": list(self.open_items),
            "previous_link": self.previous_link,
            "deals": list(self.deals),
            "metrics": list(self.metrics),
            "pipeline_problems": list(self.pipeline_problems),
        }


def sample_context() -> AgendaContext:
    """A context with every field filled, for ``check_template`` and previews.

    Everything is set, including the optional parts, so a template that misspells any name is
    caught whichever branch it sits in.
    """
    zone = ZoneInfo("America/New_York")
    return AgendaContext(
        manager_name="Marco Rossi",
        manager_email="marco@acme.example",
        rep_name="Ana Alvarez",
        rep_email="ana@acme.example",
        start=datetime(2027, 3, 2, 10, 0, tzinfo=zone),
        zone=zone,
        week="2027-W09",
        open_items=("Send the Globex proposal", "Book a demo with Initech"),
        previous_link="https://oneonone.acme.example/agendas/sample/previous",
        deals=(
            DealLine(
                account="Globex",
                amount=Decimal("120000"),
                stage="Proposal",
                next_step="",
                close_date=date(2027, 2, 26),
                no_next_step=True,
                close_date_passed=True,
            ),
        ),
        metrics=(MetricLine(name="Calls", value=Decimal("42"), benchmark=Decimal("50")),),
        pipeline_problems=("deals.csv, line 7: amount 'lots' is not a number.",),
    )

"""Pipeline data for agendas: the deals and metrics CSVs, and what an agenda shows of them.

``read_deals(path)`` reads ``rep_email,account,amount,stage,next_step,close_date`` and
``read_metrics(path)`` reads ``rep_email,metric,value,benchmark``. Both return what they could
read and a list of problems, one plain sentence each naming the file and line. A bad row (an
amount that is not a number, a date that is not ``YYYY-MM-DD``, a missing value, the wrong
number of fields, text that is not UTF-8) is skipped and reported, and every other row is still
used: one typo in a sales-ops export must not blank the pipeline section of every agenda. A
missing header or an unreadable file is one problem and no rows.

``deal_summary`` and ``metric_lines`` are pure: they pick the rep's largest open deals (flagged
when they have no next step or their close date has passed) and set each metric against its
benchmark. Reading the two files is the only I/O here; nothing reads the clock (``today`` is an
argument).

Choices the spec leaves open:
- Columns are found by header name (any order, any case, extra columns ignored); a row must have
  as many fields as the header.
- Amounts may carry thousands separators and one leading currency sign (``$1,200.50``); they
  must be finite and not negative. ``next_step``, ``stage`` and ``close_date`` may be empty (no
  next step is a flag; a blank stage counts as open; no close date is never "past").
- E-mail addresses are compared case-insensitively.
- At most ``MAX_PROBLEMS`` problems are listed per file, then one sentence counting the rest, so
  a wholly broken export does not bury every other message.

Exports: Deal, Metric, DealLine, MetricLine, read_deals, read_metrics, deal_summary,
metric_lines, is_closed_stage, DEAL_COLUMNS, METRIC_COLUMNS, MAX_PROBLEMS.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

__all__ = [
    "DEAL_COLUMNS",
    "MAX_PROBLEMS",
    "METRIC_COLUMNS",
    "Deal",
    "DealLine",
    "Metric",
    "MetricLine",
    "deal_summary",
    "is_closed_stage",
    "metric_lines",
    "read_deals",
    "read_metrics",
]

DEAL_COLUMNS = ("rep_email", "account", "amount", "stage", "next_step", "close_date")
METRIC_COLUMNS = ("rep_email", "metric", "value", "benchmark")
#: Problems listed per file before the rest are only counted.
MAX_PROBLEMS = 20

_T = TypeVar("_T")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY = "$€£¥"
# Placeholders people type into a CRM's "next step" field when there is none.
_NO_STEP = frozenset({"", "-", "—", "–", "n/a", "na", "none", "tbd", "?"})
_CLOSED_STAGES = frozenset({"won", "lost", "closed"})


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Deal:
    """One row of the deals CSV, validated."""

    rep_email: str
    account: str
    amount: Decimal
    stage: str
    next_step: str
    close_date: date | None


@dataclass(frozen=True, slots=True)
class Metric:
    """One row of the metrics CSV, validated."""

    rep_email: str
    metric: str
    value: Decimal
    benchmark: Decimal


@dataclass(frozen=True, slots=True)
class DealLine:
    """One open deal as an agenda shows it, with the flags that make it worth talking about."""

    account: str
    amount: Decimal
    stage: str
    next_step: str
    close_date: date | None
    no_next_step: bool
    close_date_passed: bool

    @property
    def amount_text(self) -> str:
        """The amount with thousands separators, and two decimals only when there are cents."""
        if self.amount == self.amount.to_integral_value():
            return _number_text(self.amount)
        return f"{self.amount:,.2f}"

    @property
    def close_date_text(self) -> str:
        return self.close_date.isoformat() if self.close_date else "—"

    @property
    def flags(self) -> tuple[str, ...]:
        """Plain words for the template: why this deal needs attention."""
        words: list[str] = []
        if self.no_next_step:
            words.append("no next step")
        if self.close_date_passed:
            words.append("close date passed")
        return tuple(words)


@dataclass(frozen=True, slots=True)
class MetricLine:
    """One metric against its benchmark."""

    name: str
    value: Decimal
    benchmark: Decimal

    @property
    def difference(self) -> Decimal:
        return self.value - self.benchmark

    @property
    def at_or_above(self) -> bool:
        return self.value >= self.benchmark

    @property
    def value_text(self) -> str:
        return _number_text(self.value)

    @property
    def benchmark_text(self) -> str:
        return _number_text(self.benchmark)

    @property
    def difference_text(self) -> str:
        """Signed, so a reader sees the direction at a glance (``+3``, ``-2.5``, ``0``)."""
        diff = self.difference
        if diff == 0:
            return "0"
        sign = "+" if diff > 0 else "-"
        return sign + _number_text(abs(diff))


def _number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{value.to_integral_value():,}"
    return f"{value.normalize():,f}"


# --------------------------------------------------------------------------- pure summaries


def is_closed_stage(stage: str) -> bool:
    """Whether a CRM stage means the deal is over.

    Letters only and case-folded, so ``Closed Won``, ``closed-lost``, ``CLOSED_WON``, ``Won``
    and ``lost`` are all closed; anything else (including a blank stage) is open.
    """
    letters = "".join(ch for ch in stage.casefold() if ch.isalpha())
    return letters in _CLOSED_STAGES or letters.startswith("closed")


def deal_summary(
    deals: Iterable[Deal], rep_email: str, today: date, *, limit: int = 5
) -> list[DealLine]:
    """The rep's ``limit`` largest open deals, largest first, each with its flags.

    Ties are broken by account name so the agenda does not reorder itself between runs.
    """
    rep = rep_email.strip().casefold()
    lines = [
        DealLine(
            account=deal.account,
            amount=deal.amount,
            stage=deal.stage,
            next_step=deal.next_step,
            close_date=deal.close_date,
            no_next_step=deal.next_step.strip().casefold() in _NO_STEP,
            close_date_passed=deal.close_date is not None and deal.close_date < today,
        )
        for deal in deals
        if deal.rep_email.casefold() == rep and not is_closed_stage(deal.stage)
    ]
    lines.sort(key=lambda line: (-line.amount, line.account.casefold()))
    return lines[: max(limit, 0)]


def metric_lines(metrics: Iterable[Metric], rep_email: str) -> list[MetricLine]:
    """The rep's metrics in file order, each against its benchmark."""
    rep = rep_email.strip().casefold()
    return [
        MetricLine(name=m.metric, value=m.value, benchmark=m.benchmark)
        for m in metrics
        if m.rep_email.casefold() == rep
    ]


# --------------------------------------------------------------------------- reading


class _RowProblem(ValueError):
    """What is wrong with one row; the reader adds the file, the line and "skipped"."""


def read_deals(path: Path) -> tuple[list[Deal], list[str]]:
    """The deals in ``path`` and one sentence per problem (see the module docstring)."""
    return _read(path, DEAL_COLUMNS, _deal_from_row)


def read_metrics(path: Path) -> tuple[list[Metric], list[str]]:
    """The metrics in ``path`` and one sentence per problem (see the module docstring)."""
    return _read(path, METRIC_COLUMNS, _metric_from_row)


def _deal_from_row(row: Mapping[str, str]) -> Deal:
    return Deal(
        rep_email=_email(row["rep_email"]),
        account=_required(row, "account"),
        amount=_amount(row["amount"], "amount"),
        stage=row["stage"].strip(),
        next_step=row["next_step"].strip(),
        close_date=_date(row["close_date"]),
    )


def _metric_from_row(row: Mapping[str, str]) -> Metric:
    return Metric(
        rep_email=_email(row["rep_email"]),
        metric=_required(row, "metric"),
        value=_number(row["value"], "value"),
        benchmark=_number(row["benchmark"], "benchmark"),
    )


def _required(row: Mapping[str, str], column: str) -> str:
    text = row[column].strip()
    if not text:
        raise _RowProblem(f"{column} is empty")
    return text


def _email(text: str) -> str:
    value = text.strip()
    if not value:
        raise _RowProblem("rep_email is empty")
    if "@" not in value or any(ch.isspace() for ch in value):
        raise _RowProblem(f"rep_email {value!r} is not an e-mail address")
    return value.casefold()


def _number(text: str, column: str) -> Decimal:
    raw = text.strip()
    if not raw:
        raise _RowProblem(f"{column} is empty")
    cleaned = raw.replace(",", "")
    if cleaned[:1] in _CURRENCY:
        cleaned = cleaned[1:].strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise _RowProblem(f"{column} {raw!r} is not a number") from None
    if not value.is_finite():
        raise _RowProblem(f"{column} {raw!r} is not a number")
    return value


def _amount(text: str, column: str) -> Decimal:
    value = _number(text, column)
    if value < 0:
        raise _RowProblem(f"{column} {text.strip()!r} is negative")
    return value


def _date(text: str) -> date | None:
    raw = text.strip()
    if not raw:
        return None
    if not _DATE_RE.match(raw):
        raise _RowProblem(f"close_date {raw!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _RowProblem(f"close_date {raw!r} is not a date on the calendar") from None


def _rows(text: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line number, fields or None, csv error or None) for every record in ``text``.

    A quoted field may span lines, so a record's own line is the one after where the previous
    record ended. A ``csv.Error`` is reported for its record and reading goes on after it.
    """
    # newline="" as the csv docs ask: lines end only at \n, \r\n or \r, never at the other
    # characters str.splitlines() breaks on, so line numbers match the admin's editor.
    reader = csv.reader(io.StringIO(text, newline=""))
    ended = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if reader.line_num == ended:  # no progress: stop rather than loop
                return
            yield ended + 1, None, str(exc)
            ended = reader.line_num
            continue
        start, ended = ended + 1, reader.line_num
        yield start, fields, None


def _read(
    path: Path, columns: Sequence[str], build: Callable[[Mapping[str, str]], _T]
) -> tuple[list[_T], list[str]]:
    header_hint = ",".join(columns)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return [], [f"{path}: cannot be read ({reason}); check the path and its permissions."]
    # surrogateescape keeps undecodable bytes as lone surrogates: the row holding them is
    # reported and skipped instead of one bad byte losing the whole file. utf-8-sig drops the
    # byte-order mark spreadsheet programs put in front of UTF-8 exports.
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    items: list[_T] = []
    problems: list[str] = []
    header: list[str] | None = None
    for line, fields, error in _rows(text):
        if fields is not None and not any(field.strip() for field in fields):
            continue  # a blank line, or an empty spreadsheet row (,,,,,)
        if header is None:
            names = [] if fields is None else [f.strip().casefold() for f in fields]
            missing = [c for c in columns if c not in names]
            if error is not None or _has_surrogates(names) or len(missing) == len(columns):
                return [], [f"{path}: has no header row; put {header_hint} on its first line."]
            if missing:
                return [], [
                    f"{path}, line {line}: the header lacks {', '.join(missing)}; "
                    f"it needs {header_hint}."
                ]
            header = names
            continue
        try:
            if error is not None:
                raise _RowProblem(f"is not valid CSV ({error})")
            assert fields is not None
            if _has_surrogates(fields):
                raise _RowProblem("is not UTF-8 text; save the file as UTF-8")
            if len(fields) != len(header):
                raise _RowProblem(f"has {len(fields)} fields where the header has {len(header)}")
            items.append(build(dict(zip(header, fields, strict=True))))
        except _RowProblem as exc:
            problems.append(f"{path}, line {line}: {exc}; the row is skipped.")
    if header is None:
        return [], [f"{path}: has no header row; put {header_hint} on its first line."]
    if len(problems) > MAX_PROBLEMS:
        rest = len(problems) - MAX_PROBLEMS
        problems = [
            *problems[:MAX_PROBLEMS],
            f"{path}: {rest} more bad rows are skipped; fix the ones above and check again.",
        ]
    return items, problems


def _has_surrogates(fields: Iterable[str]) -> bool:
    return any("\udc80" <= ch <= "\udcff" for field in fields for ch in field)

"""Notices: the words of each decision, and getting them out exactly once.

Composing is pure (``draft``); ``claim`` and ``deliver`` do the I/O through the ledger and the
channels of ``scheduler.notify``.

Exactly once, the way chosen: a notice is *recorded before it is sent* (the transactional
outbox pattern). The pass decides and claims every notice in the same ledger transaction as
the weeks that called for it, storing the whole message (RFC 5322 text with a Message-ID
derived from the notice's key); only after the commit does ``deliver`` send what is unsent and
mark it sent. A crash before the commit decides nothing (the next pass decides again, the same
way); a crash after it leaves the message unsent in the ledger and the next pass sends exactly
that message. Recording after sending would instead send twice on a crash between the two.
The one window left is a crash after the SMTP server accepted the message and before
``mark_notice_sent``: the message then goes again with the same Message-ID, which mail
systems use to drop duplicates. Replicas on a shared database (PostgreSQL) run passes one at a
time under the pass lease (``scheduler.store.lease``, every ledger write fenced by its token)
and also lease each message before sending it, so two never send it at once; on SQLite the
data folder's lock already allows one writer only.

Exports: Draft, draft, claim, deliver.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.adherence import adherence, missed_streak
from scheduler.dashboard import STATUS_LABELS, STATUS_MARKS, STATUS_ORDER, heatmap_svg
from scheduler.domain import LedgerStatus, week_after
from scheduler.errors import DeliveryError
from scheduler.escalation import Decision, settled_weeks
from scheduler.metrics import record_notice
from scheduler.notify import Mailer, SlackChannel, compose, message_id_for, recipients
from scheduler.orgfile import Org
from scheduler.store.ledger import Ledger, MakeupRecord, NoticeRecord, OccurrenceRecord

__all__ = ["Draft", "claim", "deliver", "draft"]

log = logging.getLogger(__name__)

#: How long a replica on a shared database may hold a message before another may send it.
LEASE = timedelta(minutes=2)
#: Weeks shown in an escalation's table.
TABLE_WEEKS = 8
#: Weeks in a digest's heatmap.
HEATMAP_WEEKS = 12
#: Kinds also posted to Slack when a webhook is configured (digests are personal).
SLACK_KINDS = frozenset({"nudge", "escalation"})

_STATUS_WORDS = {
    "held": "held",
    "moved": "moved, held",
    "made_up": "made up later that week",
    "cancelled": "cancelled",
    "declined": "declined",
    "missed": "missed (not on the calendar)",
    "close_week": "month-end close, skipped",
    "time_off": "time off",
    "upcoming": "upcoming",
}


@dataclass(frozen=True, slots=True)
class Draft:
    """A decision in words: a mail (text and HTML) and, for some kinds, a Slack line."""

    decision: Decision
    subject: str
    text: str
    html: str
    slack: str | None = None


# --------------------------------------------------------------------------- composing


def draft(
    decision: Decision,
    org: Org,
    weeks: Mapping[str, Mapping[str, OccurrenceRecord]],
    makeups: Mapping[str, Mapping[str, MakeupRecord]],
    now: datetime,
    statuses: Mapping[str, Mapping[str, str]],
) -> Draft:
    """The words of one decision. ``weeks``/``makeups`` are the ledger's, by pair then week;
    ``statuses`` ({pair: {week: status}}) reaches further back than ``weeks`` for a pair
    read over a window, and is all a digest reads."""
    if decision.kind == "digest":
        return _digest(decision, org, statuses)
    manager_email, _, rep_email = decision.pair_key.partition("/")
    manager, rep = _name(org, manager_email), _name(org, rep_email)
    records = weeks.get(decision.pair_key, {})
    zone = _zone(org, manager_email)
    title = f"1:1 {manager} / {rep}"
    if decision.kind == "nudge":
        record = records.get(decision.week)
        when = _when(record, zone) if record else decision.week
        why = record.reason if record and record.reason else ""
        word = _STATUS_WORDS.get(decision.why, decision.why)
        following = _next_upcoming(records, now, zone)
        makeup = makeups.get(decision.pair_key, {}).get(decision.week)
        lines = [
            f"Hello {_first(manager)} and {_first(rep)},",
            "",
            f"Your weekly 1:1 of {decision.week} ({when}) was {word}"
            + (f": {why}." if why else "."),
        ]
        if makeup is None:
            lines.append("No make-up took place that week.")
        else:
            lines.append(
                f"The make-up ({makeup.start.astimezone(zone):%a %d %b %H:%M}) was "
                f"{makeup.state} too."
            )
        lines += [
            "",
            "A weekly 1:1 is the manager's main coaching tool, and it dies by being skipped. "
            "When the slot does not work, move it to another day of the week rather than "
            "cancel it.",
        ]
        if following:
            lines += ["", f"The next one is {following}."]
        text = "\n".join(lines)
        return Draft(
            decision,
            f"{title}: the 1:1 of {decision.week} did not happen",
            text,
            _paragraphs(text),
            slack=f"{title}: the 1:1 of {decision.week} was {word}.",
        )
    if decision.kind == "escalation":
        skip = _name(org, decision.to[0]) if decision.to else "there"
        table = _table_rows(records, now, zone)
        intro = [
            f"Hello {_first(skip)},",
            "",
            f"The weekly 1:1s of {manager} with {rep} keep getting skipped: {decision.why}, "
            f"starting {decision.week}. As {_first(manager)}'s manager you may want to coach "
            f"{_first(manager)} on keeping them ({_first(manager)} is copied).",
            "",
            "Their recent weeks:",
            "",
        ]
        text = "\n".join(intro + _text_table(table))
        body = _paragraphs("\n".join(intro[:-2])) + _html_table(table)
        return Draft(
            decision,
            f"{title}: {decision.why}",
            text,
            body,
            slack=f"{title}: {decision.why} (since {decision.week}); {skip} was told.",
        )
    if decision.kind == "prep":
        return _prep(decision, manager, rep, title, _zone(org, rep_email))
    if decision.kind == "series_recreated":
        who = decision.why or "someone"
        text = "\n".join(
            [
                f"Hello {_first(manager)},",
                "",
                f"The weekly 1:1 series of {manager} and {rep} was deleted from {who}'s "
                "calendar. oneonone has put it back, because the pair is still in the org file: "
                "weeks that were due while it was gone count as missed.",
                "",
                "To skip a single week, cancel or decline just that week. To end these 1:1s for "
                "good, ask your sales-ops admin to change the org file.",
            ]
        )
        return Draft(
            decision, f"{title}: the series was deleted and is back", text, _paragraphs(text)
        )
    raise ValueError(f"no words for notices of kind {decision.kind!r}")


def _prep(decision: Decision, manager: str, rep: str, title: str, zone: ZoneInfo) -> Draft:
    """The rep is asked to prepare the agenda: when, where it is, what is still open."""
    when = f"{decision.at.astimezone(zone):%a %d %b %H:%M}" if decision.at else decision.week
    intro = [
        f"Hello {_first(rep)},",
        "",
        f"Your 1:1 with {manager} is on {when}. It is your time: please prepare the agenda "
        "before you meet. Add what you want to talk about, bring your numbers and the deals "
        "that matter, and tick the action items that are done.",
        "",
    ]
    items = [f"- {item}" for item in decision.items]
    carried = ["", "Open action items from your earlier 1:1s:", *items] if items else []
    outro = [
        "",
        f"{_first(manager)} reads it before the 1:1. The agenda is also linked from the "
        "meeting on your calendar.",
    ]
    text = "\n".join([*intro, f"Your agenda: {decision.link}", *carried, *outro])
    link = html.escape(decision.link, quote=True)
    body = _paragraphs("\n".join(intro)) + f'\n<p><a href="{link}">Open your agenda</a></p>'
    if items:
        listed = "".join(f"<li>{html.escape(item)}</li>" for item in decision.items)
        body += f"\n<p>Open action items from your earlier 1:1s:</p>\n<ul>{listed}</ul>"
    body += "\n" + _paragraphs("\n".join(outro))
    return Draft(decision, f"{title}: please prepare the agenda for {when}", text, body)


def _digest(
    decision: Decision,
    org: Org,
    weeks: Mapping[str, Mapping[str, str]],
) -> Draft:
    manager_email = decision.pair_key.rstrip("/")
    manager = _name(org, manager_email)
    columns = [week_after(decision.week, -offset) for offset in range(HEATMAP_WEEKS - 1, -1, -1)]
    # The manager's pairs with a week in the digest's weeks: not every pair the ledger ever
    # had (a rep who left a year ago is no longer one of "their pairs").
    weeks = {
        key: found
        for key, found in weeks.items()
        if key.partition("/")[0] == manager_email and any(week in found for week in columns)
    }
    rows: list[tuple[str, str, str, str, str]] = []
    for pair_key, records in sorted(weeks.items()):
        settled = settled_weeks(records, decision.week)
        statuses = [status for _, status in settled]
        last = records.get(decision.week)
        rows.append(
            (
                _name(org, pair_key.partition("/")[2]),
                _STATUS_WORDS.get(last, last) if last else "-",
                _percent(adherence([s for w, s in settled if w > week_after(decision.week, -4)])),
                _percent(adherence([s for w, s in settled if w > week_after(decision.week, -12)])),
                str(missed_streak(statuses)),
            )
        )
    header = ("rep", decision.week, "last 4 weeks", "last 12 weeks", "missed in a row")
    mine = [(_name(org, key.partition("/")[2]), records) for key, records in sorted(weeks.items())]
    heat = [(name, [records.get(w, "none") for w in columns]) for name, records in mine]
    marks = [
        f"{name[:20]:<20}  " + "".join(STATUS_MARKS.get(s, "?") or "-" for s in statuses)
        for name, statuses in heat
    ]
    legend = ", ".join(
        f"{STATUS_MARKS[s] or '-'} {STATUS_LABELS[s]}" for s in STATUS_ORDER if s != "upcoming"
    )
    intro = [
        f"Hello {_first(manager)},",
        "",
        f"Your weekly 1:1s in {decision.week}, and how many of them took place lately "
        "(close and time-off weeks left out):",
        "",
    ]
    picture = [
        "",
        f"Week by week, {columns[0]} to {columns[-1]}:",
        "",
        *marks,
        "",
        legend,
    ]
    text = "\n".join(intro + _text_table([header, *rows]) + picture)
    body = (
        _paragraphs("\n".join(intro[:-1]))
        + _html_table([header, *rows])
        + _paragraphs(f"Week by week, {columns[0]} to {columns[-1]}:")
        + "\n"
        + heatmap_svg(heat, columns)
        + _paragraphs(legend)
    )
    return Draft(decision, f"Your 1:1s: digest of {decision.week}", text, body)


def with_dashboard_link(item: Draft, url: str) -> Draft:
    """A digest with the address of the manager's dashboard added to both its parts."""
    line = f"Your dashboard, with every pair week by week: {url}"
    shown = html.escape(url)
    link = f'<p>Your dashboard, with every pair week by week: <a href="{shown}">{shown}</a></p>'
    return replace(item, text=f"{item.text}\n\n{line}\n", html=f"{item.html}\n{link}")


def _table_rows(
    records: Mapping[str, OccurrenceRecord], now: datetime, zone: ZoneInfo
) -> list[tuple[str, ...]]:
    """The pair's last weeks up to now, and the next one, for an escalation's table."""
    past = [w for w in sorted(records) if records[w].planned_start <= now][-TABLE_WEEKS:]
    ahead = [w for w in sorted(records) if records[w].planned_start > now][:1]
    rows: list[tuple[str, ...]] = [("week", "when", "what happened", "why")]
    for week in [*past, *ahead]:
        record = records[week]
        rows.append(
            (
                week,
                _when(record, zone),
                _STATUS_WORDS.get(record.status, record.status),
                record.reason,
            )
        )
    return rows


def _text_table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _html_table(rows: Sequence[Sequence[str]]) -> str:
    head, *body = rows
    cells = "".join(f'<th align="left">{html.escape(cell)}</th>' for cell in head)
    lines = [f'<table cellpadding="4"><tr>{cells}</tr>']
    for row in body:
        lines.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _paragraphs(text: str) -> str:
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    return "\n".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>" for block in blocks)


def _when(record: OccurrenceRecord, zone: ZoneInfo) -> str:
    start = (record.actual_start or record.planned_start).astimezone(zone)
    return f"{start:%a %d %b %H:%M}"


def _next_upcoming(
    records: Mapping[str, OccurrenceRecord], now: datetime, zone: ZoneInfo
) -> str | None:
    for _, record in sorted(records.items()):
        start = record.actual_start or record.planned_start
        if record.status == LedgerStatus.UPCOMING.value and start > now:
            return f"{start.astimezone(zone):%a %d %b %H:%M}"
    return None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _name(org: Org, email: str) -> str:
    person = org.people.get(email)
    return person.name if person is not None and person.name.strip() else email


def _first(name: str) -> str:
    return name.split()[0] if name.strip() else name


def _zone(org: Org, email: str) -> ZoneInfo:
    person = org.people.get(email)
    return person.zone if person is not None else org.zone


# --------------------------------------------------------------------------- recording


def claim(
    ledger: Ledger, items: Sequence[Draft], org: Org, now: datetime, *, slack: bool
) -> list[bool]:
    """Record the notices (inside the caller's transaction), all in a statement or two (a
    weekly pass decides a prep notice for every pair, issue 17). Each is False when it was
    recorded before, and then nothing of it is.

    The stored message is final: a resend after a crash sends these very bytes.
    """
    messages: list[list[NoticeRecord]] = []
    issued: list[str | None] = []
    posts: list[list[NoticeRecord] | None] = []
    sender = org.email.sender
    for item in items:
        decision = item.decision
        key = f"{decision.kind}|{decision.pair_key}|{decision.week}"
        scope = None
        if decision.kind == "digest":
            # Each digest links to the manager's dashboard with an address of its own (only its
            # hash is kept), so no earlier mail's link stops working; ``dashboard rotate``
            # revokes them all. A digest recorded before has its address already: none is
            # made (and one made here for a digest recorded meanwhile is taken back below).
            from scheduler.dashboard_io import dashboard_url, digest_scope, issue_dashboard_token

            scope = digest_scope(decision.pair_key.rstrip("/"), decision.week)
            if ledger.dashboard_token(scope) is None:
                token = issue_dashboard_token(ledger, scope, now)
                item = with_dashboard_link(item, dashboard_url(org, token))
            else:
                scope = None
        message_id = message_id_for(key, sender)
        message = compose(
            sender=sender,
            to=[(_name(org, email), email) for email in decision.to],
            cc=[(_name(org, email), email) for email in decision.cc],
            subject=item.subject,
            text=item.text,
            html=item.html,
            message_id=message_id,
            date=now,
        )
        messages.append(
            _rows(decision, [*decision.to, *decision.cc], message_id, now, "email", message)
        )
        issued.append(scope)
        post = None
        if slack and item.slack is not None and decision.kind in SLACK_KINDS:
            slack_id = message_id_for(key + "|slack", sender)
            post = _rows(decision, ["slack"], slack_id, now, "slack", item.slack)
        posts.append(post)
    recorded = ledger.claim_notices(messages)
    for scope, ok in zip(issued, recorded, strict=True):
        if not ok and scope is not None:
            ledger.delete_dashboard_token(scope)
    ledger.claim_notices(
        [post for post, ok in zip(posts, recorded, strict=True) if ok and post is not None]
    )
    return recorded


def _rows(
    decision: Decision,
    recipients: Sequence[str],
    message_id: str,
    now: datetime,
    channel: str,
    raw: str,
) -> list[NoticeRecord]:
    """The ledger's rows of one message: one per recipient."""
    return [
        NoticeRecord(
            kind=decision.kind,
            pair_key=decision.pair_key,
            week=decision.week,
            recipient=recipient,
            decided_at=now,
            sent_at=None,
            message_id=message_id,
            channel=channel,
            raw=raw,
        )
        for recipient in recipients
    ]


# --------------------------------------------------------------------------- sending


def deliver(
    ledger: Ledger,
    mailer: Mailer,
    slack: SlackChannel | None,
    sender: str,
    now: datetime,
) -> tuple[int, list[str]]:
    """Send every recorded, unsent message; mark each sent. Returns (sent, problems).

    A message that cannot be sent stays unsent and is tried again by the next pass.
    """
    sent = 0
    problems: list[str] = []
    shared = ledger.engine.dialect.name != "sqlite"
    for notice in ledger.unsent_notices():
        if shared:
            # Real time, not the pass's clock: the lease is about processes running now.
            wall = datetime.now(UTC)
            if not ledger.lease_notice(notice.message_id, wall, wall + LEASE):
                continue
        try:
            if notice.channel == "slack":
                if slack is None:
                    continue  # Slack was switched off since: nothing to send it to
                slack.post(notice.raw)
            else:
                mailer.send(notice.raw, sender, recipients(notice.raw))
        except DeliveryError as error:
            problems.append(f"the {notice.kind} notice of {notice.week} was not sent yet: {error}")
            if not error.transient:
                log.error("notice %s: %s", notice.message_id, error)
            continue
        ledger.mark_notice_sent(notice.message_id, now)
        record_notice(notice.kind)
        sent += 1
    return sent, problems

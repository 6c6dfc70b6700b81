"""Dashboards, the I/O part: their addresses (tokens in the ledger) and their data.

I/O: reads the ledger (``scheduler.report.build_report``) and writes it only to store a token
hash. The dashboard itself is ``scheduler.dashboard``'s (pure).

Tokens as for feeds (spec "Dashboard"): 192 random bits, URL-safe, only their SHA-256 kept
(``dashboard_tokens``), looked up by hash and compared in constant time; one per scope (a
person's e-mail, or ``*`` for the whole org); a rotation replaces it. Each weekly digest
carries a link of its own to the manager's dashboard (scope ``digest:<manager>:<week>``,
``digest_scope``), so a new one never breaks the link of an older mail; rotating a person's
dashboard revokes those too (``revoke_digest_links``).

Exports: issue_dashboard_token, find_dashboard, dashboard_url, load_dashboard, digest_scope,
viewer_of, revoke_digest_links.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime
from typing import Any

from scheduler.dashboard import Dashboard, build_dashboard
from scheduler.domain import iso_week
from scheduler.feeds import TOKEN_BYTES, token_hash
from scheduler.orgfile import Org
from scheduler.report import build_report
from scheduler.store.ledger import Ledger

__all__ = [
    "dashboard_url",
    "digest_scope",
    "find_dashboard",
    "issue_dashboard_token",
    "load_dashboard",
    "revoke_digest_links",
    "viewer_of",
]

_DIGEST = "digest:"


def digest_scope(manager: str, week: str) -> str:
    """The scope of the dashboard link in ``manager``'s digest of ``week``."""
    return f"{_DIGEST}{manager.lower()}:{week}"


def viewer_of(scope: str) -> str:
    """Whose part of the org a scope shows: an e-mail, or ``*``."""
    if scope.startswith(_DIGEST):
        return scope[len(_DIGEST) :].rsplit(":", 1)[0]
    return scope


def revoke_digest_links(ledger: Ledger, manager: str) -> int:
    """Make the dashboard links of every digest sent to ``manager`` stop working."""
    return ledger.delete_dashboard_tokens_under(f"{_DIGEST}{manager.lower()}:")


_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
#: Weeks of history a dashboard shows (the spec's "last 12").
HISTORY_WEEKS = 12


def issue_dashboard_token(ledger: Ledger, scope: str, now: datetime) -> str:
    """A new dashboard token for ``scope``, replacing any earlier one; returned once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ledger.set_dashboard_token(scope.lower(), token_hash(token), now)
    return token


def dashboard_url(org: Org, token: str) -> str:
    return f"{org.server.public_url.rstrip('/')}/dashboards/{token}"


def find_dashboard(ledger: Ledger, token: str) -> str | None:
    """The scope whose dashboard ``token`` opens, or ``None`` (constant-time compare)."""
    well_formed = bool(_TOKEN_RE.match(token))
    digest = token_hash(token if well_formed else "")
    found = ledger.dashboard_token_scope(digest)
    if found is None or not well_formed:
        return None
    scope, stored = found
    return scope if hmac.compare_digest(stored.encode(), digest.encode()) else None


def load_dashboard(
    org: Org, ledger: Ledger, scope: str, now: datetime
) -> tuple[dict[str, Any], Dashboard]:
    """The report the dashboard of ``scope`` is built from, and the dashboard."""
    report = build_report(org, ledger, now, HISTORY_WEEKS)
    names = {email: person.name for email, person in org.people.items() if person.name}
    current = iso_week(now.astimezone(org.zone).date())
    dashboard = build_dashboard(
        report,
        viewer_of(scope),
        current,
        history=HISTORY_WEEKS,
        # The horizon counts the current week (``planner.weeks_from``), as the history does:
        # one more column would be past what any pass plans, "no record" for every pair.
        ahead=org.schedule.horizon_weeks - 1,
        names=names,
    )
    return report, dashboard

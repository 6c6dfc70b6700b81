"""The product's one error hierarchy.

Each subclass is a thing the caller does differently: show the message and stop (the user must
fix something), retry later, re-read on a conflict, re-authenticate, or refuse a dangerous pass.
The CLI turns every ``OneononeError`` into plain sentences on stderr and an exit code; nothing
else reaches the user as a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class OneononeError(Exception):
    """Root of every error the product raises on purpose."""

    exit_code = 1


class UserError(OneononeError):
    """Something the user must fix: bad config, unreachable calendar. One sentence per problem."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class CalendarError(OneononeError):
    """A calendar could not be read or written; names the calendar and what went wrong."""


class TransientError(CalendarError):
    """Worth retrying later (server error, quota, lock held briefly)."""


class ConflictError(CalendarError):
    """The object changed under us (etag mismatch): re-read, never overwrite."""


class AuthError(CalendarError):
    """Credentials expired or were revoked: re-authenticate, do not retry."""


class DeliveryError(OneononeError):
    """A notice could not be delivered on one channel (SMTP, outbox, Slack).

    The message is one sentence naming the channel and never a secret ("SMTP server
    mail.example:587: connection refused"). ``transient`` tells the caller whether the same
    notice may go through if sent again later (connection trouble, timeouts, SMTP 4xx, HTTP
    429/5xx) or will keep failing until someone fixes the configuration (SMTP 5xx, a refused
    login, any other HTTP 4xx).
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class SafetyStop(OneononeError):
    """A pass would do something drastic (mass end/delete, act on a suddenly empty calendar)."""

    exit_code = 3

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("\n".join(self.reasons))


class AlreadyRunning(UserError):
    """Another daemon or pass holds the data folder's lock."""

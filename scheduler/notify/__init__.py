"""Notification channels: composing notices as e-mail and delivering them.

``message`` is pure (RFC 5322 text, deterministic Message-IDs); ``channels`` does the I/O (SMTP,
the ``.eml`` outbox, a Slack webhook) and raises ``scheduler.errors.DeliveryError``. Deciding
which notice goes to whom, and recording that it went, is the caller's job.
"""

from __future__ import annotations

from scheduler.notify.channels import (
    Mailer,
    OutboxMailer,
    SlackChannel,
    SmtpMailer,
    mailer_for,
    outbox_filename,
    slack_for,
)
from scheduler.notify.message import address_of, check_address, compose, message_id_for, recipients

__all__ = [
    "Mailer",
    "OutboxMailer",
    "SlackChannel",
    "SmtpMailer",
    "address_of",
    "check_address",
    "compose",
    "mailer_for",
    "message_id_for",
    "outbox_filename",
    "recipients",
    "slack_for",
]

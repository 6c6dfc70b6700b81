"""Notices by index (issue 17). Every pass sends what is unsent and marks each message sent;
both scanned every notice ever decided (a prep notice per pair and week: a year-old org of
10,000 pairs has half a million), the marking once for every message sent.

- ``ix_notices_unsent``: the unsent notices only (a partial index), which every pass reads;
- ``ix_notices_message_id``: a message's rows, which sending leases, lists and marks sent.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unsent = sa.text("sent_at IS NULL")
    op.create_index(
        "ix_notices_unsent",
        "notices",
        ["id"],
        sqlite_where=unsent,
        postgresql_where=unsent,
    )
    op.create_index("ix_notices_message_id", "notices", ["message_id"])


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

"""Unsent notices by index (issue 17): every pass sends what is unsent, and found it by
scanning every notice ever decided (a prep notice per pair and week: a year-old org of 10,000
pairs has half a million), in every 5-minute pass. A partial index holds only the unsent ones.

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


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

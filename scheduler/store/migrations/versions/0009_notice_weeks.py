"""Notices by week, and without their text once sent (issue 17).

- ``ix_notices_week``: week, kind and pair key, all that a pass asks when it reads which
  notices were decided about the weeks of its window (it read every notice ever decided: a
  prep notice per pair and week, every few minutes).
- The text of a message already sent is let go (``Ledger.mark_notice_sent`` lets it go from
  now on): it was kept for a resend after a crash to be the same bytes, and was most of a
  year-old ledger (a row per recipient, about 5 kB each).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notices_week", "notices", ["week", "kind", "pair_key"])
    op.execute(sa.text("UPDATE notices SET raw = NULL WHERE sent_at IS NOT NULL"))


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

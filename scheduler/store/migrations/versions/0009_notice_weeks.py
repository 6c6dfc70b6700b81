"""Notices by week (issue 17). Every pass asks which notices were decided about the weeks of
its window; without an index on the week, that read every notice ever decided (a prep notice
per pair and week), every few minutes.

- ``ix_notices_week``: week, kind and pair key, all that read asks for (the index covers it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notices_week", "notices", ["week", "kind", "pair_key"])


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

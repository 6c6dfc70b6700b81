"""Bounded passes (issue 17): a pass reads the weeks since a line, not all history.

- ``series.window``: "<ISO week> <digest>", the digest of the series' weeks from that week on
  as the product last wrote or checked them; a pass whose weeks from that line give the same
  digest knows the whole series is unchanged without reading its settled weeks.
- indexes on ``occurrences.week``, ``makeups.week`` and ``agenda_docs.week``, so reading the
  weeks since a line reads only those rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for every series written before: its next pass reads its whole history once.
    op.add_column("series", sa.Column("window", sa.Text))
    op.create_index("ix_occurrences_week", "occurrences", ["week"])
    op.create_index("ix_makeups_week", "makeups", ["week"])
    op.create_index("ix_agenda_docs_week", "agenda_docs", ["week"])


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

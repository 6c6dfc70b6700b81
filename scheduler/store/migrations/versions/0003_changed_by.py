"""Whose edit a week's change is: ``occurrences.changed_by`` (an e-mail, empty before).

A decline lived only as a PARTSTAT in the copies; when people deleted both copies, the
recreated series lost it while the ledger still counted the week declined (and its make-up
booked). The ledger now keeps who declined, so the recreated instance carries their answer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: an ALTER TABLE ADD on both SQLite and PostgreSQL, no table rewrite.
    op.add_column("occurrences", sa.Column("changed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

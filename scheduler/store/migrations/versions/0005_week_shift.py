"""The org week a series' rule counts in: ``series.week_shift`` (0 for every series before).

Weeks are ISO weeks in the org's zone; a series' rule is in its organizer's zone. When the
organizer's slot lies in another org week (a Tokyo manager's Monday morning is Sunday in New
York), the instance of org week W is the rule's instance of organizer week W + shift.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every series written before kept its organizer's weeks: 0. A pair whose slot crosses
    # into another org week is reshaped by its next pass, like any slot change.
    op.add_column("series", sa.Column("week_shift", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

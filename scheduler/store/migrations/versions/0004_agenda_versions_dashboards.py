"""Editable agenda pages and leaders' dashboards: ``agenda_versions`` and ``dashboard_tokens``.

- ``agenda_versions``: every saved version of every agenda document edited in its web page
  (and the text it replaced, so nothing people wrote elsewhere is lost), numbered per document;
  ``(ref, version)`` is unique, so two replicas saving at once never both get the same number.
- ``dashboard_tokens``: one dashboard address per scope (a person's e-mail, or ``*`` for the
  whole org); only the SHA-256 of the token is kept, like feed tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: other replicas running the previous code never read them.
    op.create_table(
        "agenda_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(420), nullable=False),
        sa.Column("pair_key", sa.String(400), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("saved_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("ref", "version", name="one_agenda_version"),
    )
    op.create_table(
        "dashboard_tokens",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("rotated_at", sa.String(40)),
    )


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

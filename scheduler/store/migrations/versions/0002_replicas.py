"""Many replicas on one database: the pass lease, the record of passes, agenda texts.

- ``pass_lease``: one row per lease (``name = 'pass'``): which replica holds it, its fencing
  ``token`` (raised by one at every change of holder, never reused) and when it expires, on
  the database's clock. See ``scheduler.store.lease``.
- ``pass_runs``: one row per pass begun: who ran it under which token, the pass's clock, when
  it began and ended (real time), its result, and which unfinished pass it finished.
- ``agenda_texts``: the text of each agenda document kept in the database (every calendar but
  Google's, when the ledger is shared), by its ref ``manager/rep/YYYY-MM-DD``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pass_lease",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(200)),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("acquired_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "pass_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("replica", sa.String(200), nullable=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("pass_now", sa.String(40), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40)),
        sa.Column("result", sa.String(20)),
        sa.Column("resumes", sa.Integer),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "agenda_texts",
        sa.Column("ref", sa.String(420), primary_key=True),
        sa.Column("pair_key", sa.String(400), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

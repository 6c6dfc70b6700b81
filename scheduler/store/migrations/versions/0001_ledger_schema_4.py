"""The ledger as oneonone wrote it before Alembic: schemas 1 to 4.

A fresh database gets schema 4's tables. A ledger from before Alembic (``meta.schema_version``
1, 2, 3 or 4, no ``alembic_version``) keeps its tables and rows and gains what it lacks: the
hand-written additive upgrades this replaces only ever added tables and nullable columns, so
that is exactly what this does. The tables are frozen here as schema 4 had them; later
revisions change them, never this one.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_schema = sa.MetaData()

sa.Table(
    "meta",
    _schema,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
sa.Table(
    "pairs",
    _schema,
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("manager", sa.String(200), nullable=False),
    sa.Column("rep", sa.String(200), nullable=False),
    sa.Column("skip_level", sa.String(200)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("ended_at", sa.String(40)),
)
sa.Table(
    "series",
    _schema,
    sa.Column("pair_key", sa.String(400), primary_key=True),
    sa.Column("uid", sa.String(200), nullable=False),
    sa.Column("organizer", sa.String(200), nullable=False),
    sa.Column("dtstart", sa.String(40), nullable=False),
    sa.Column("weekday", sa.Integer, nullable=False),
    sa.Column("at_time", sa.String(5), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("until", sa.String(40)),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("previous_fingerprint", sa.Text),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.Column("dtstamp", sa.String(40), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("seen_at", sa.String(40)),  # schema 2
    sa.Column("person_slot", sa.Text),  # schema 2
)
sa.Table(
    "copies",  # schema 4
    _schema,
    sa.Column("uid", sa.String(200), primary_key=True),
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("pair_key", sa.String(400), nullable=False),
    sa.Column("version", sa.Text),
    sa.Column("fingerprint", sa.String(80), nullable=False),
    sa.Column("baseline", sa.Text, nullable=False),
    sa.Column("written_at", sa.String(40), nullable=False),
)
sa.Table(
    "occurrences",
    _schema,
    sa.Column("pair_key", sa.String(400), primary_key=True),
    sa.Column("week", sa.String(8), primary_key=True),
    sa.Column("regular_start", sa.String(40), nullable=False),
    sa.Column("planned_start", sa.String(40), nullable=False),
    sa.Column("planned_end", sa.String(40), nullable=False),
    sa.Column("actual_start", sa.String(40)),
    sa.Column("actual_end", sa.String(40)),
    sa.Column("plan_status", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("people_changed", sa.Boolean, nullable=False),
    sa.Column("change", sa.String(20), nullable=False),
    sa.Column("agenda", sa.Text),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("away", sa.Boolean),  # schema 2
)
sa.Table(
    "occurrence_log",
    _schema,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pair_key", sa.String(400), nullable=False),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("plan_status", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("start", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
sa.Table(
    "notices",
    _schema,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("pair_key", sa.String(400), nullable=False),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("recipient", sa.String(400), nullable=False),
    sa.Column("decided_at", sa.String(40), nullable=False),
    sa.Column("sent_at", sa.String(40)),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(20)),  # schema 2
    sa.Column("raw", sa.Text),  # schema 2
    sa.Column("lease_until", sa.String(40)),  # schema 2
    sa.UniqueConstraint("kind", "pair_key", "week", "recipient", name="one_notice"),
)
sa.Table(
    "makeups",  # schema 2
    _schema,
    sa.Column("pair_key", sa.String(400), primary_key=True),
    sa.Column("week", sa.String(8), primary_key=True),
    sa.Column("uid", sa.String(200), nullable=False),
    sa.Column("start", sa.String(40), nullable=False),
    sa.Column("end", sa.String(40), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
sa.Table(
    "feed_tokens",
    _schema,
    sa.Column("email", sa.String(200), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("rotated_at", sa.String(40)),
)
sa.Table(
    "agenda_docs",  # schema 3
    _schema,
    sa.Column("pair_key", sa.String(400), primary_key=True),
    sa.Column("session_date", sa.String(10), primary_key=True),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("start", sa.String(40), nullable=False),
    sa.Column("end", sa.String(40), nullable=False),
    sa.Column("ref", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("excerpt", sa.Text, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("items", sa.Text, nullable=False),
    sa.Column("body", sa.Text),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("written_at", sa.String(40)),
    sa.Column("read_at", sa.String(40)),
    sa.UniqueConstraint("pair_key", "week", "kind", name="one_agenda_per_session"),
)
sa.Table(
    "action_items",  # schema 3
    _schema,
    sa.Column("pair_key", sa.String(400), primary_key=True),
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("first_agenda", sa.String(10), nullable=False),
    sa.Column("last_agenda", sa.String(10), nullable=False),
    sa.Column("decided_in", sa.String(10)),
    sa.Column("done_at", sa.String(40)),
    sa.Column("history", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    _schema.create_all(bind, checkfirst=True)
    inspector = sa.inspect(bind)
    for table in _schema.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                # Every column a schema added after 1 is nullable, so old rows stay valid.
                assert column.nullable, f"{table.name}.{column.name} cannot be added"
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
    meta = _schema.tables["meta"]
    found = bind.execute(
        sa.select(meta.c.value).where(meta.c.key == "schema_version")
    ).scalar_one_or_none()
    if found is None:
        bind.execute(sa.insert(meta).values(key="schema_version", value="4"))
    else:
        bind.execute(sa.update(meta).where(meta.c.key == "schema_version").values(value="4"))


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

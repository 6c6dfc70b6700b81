"""The feed cache (issue 17): ``feed_versions`` and ``feed_cache``.

- ``feed_versions``: per person, the feed generation of the last change of their 1:1s (the
  row ``*`` holds the newest generation), indexed by version, so a server learns what changed
  since it last looked with one indexed read;
- ``feed_cache``: each person's feed as last built (bytes, ETag, the version and context it
  was built for), so every replica serves a feed another built.

See ``scheduler.store.feedcache``. Both start empty: every feed is built once on its first
fetch after the upgrade, as after a restart.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: other replicas running the previous code never read them (and write
    # no bump, so after a rolling upgrade a feed may be rebuilt once more than needed).
    op.create_table(
        "feed_versions",
        sa.Column("email", sa.String(200), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_index("feed_versions_by_version", "feed_versions", ["version"])
    op.create_table(
        "feed_cache",
        sa.Column("email", sa.String(200), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("context", sa.String(64), nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    # The ledger is a record: migrations only add, and none is undone.
    raise NotImplementedError("the ledger's migrations are not reversible")

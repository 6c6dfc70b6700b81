"""Alembic migrations of the ledger (see ``scheduler.store.migrate``, which runs them)."""

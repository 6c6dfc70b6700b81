from __future__ import annotations

from scheduler.store.ledger import Ledger


def test_opens(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    try:
        assert ledger.get_state("schema_version") == "4"
    finally:
        ledger.close()

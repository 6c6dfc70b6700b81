"""The pass's engine: read once, decide, then apply (vdirsyncer's shape).

- ``snapshot``: the one read of every calendar and of the ledger a pass decides on (I/O).
- ``observe``: what people did to each pair's series and make-ups, and a lost ledger rebuilt
  from the calendars (pure).
- ``makeups``: make-ups for cancelled and declined weeks (pure).
- ``series``: the series and make-up objects each pair needs written, each conditional on the
  version read (pure).
- ``decide``: snapshot -> the weeks (with any safety stop), then -> ``PassPlan``: every ledger
  record, calendar write and notice the pass intends (pure).
- ``apply``: carries a ``PassPlan`` out: ledger first, then calendars, then notices (I/O).

``scheduler.sync.run_pass`` wires them; ``oneonone plan`` is the same pass without ``apply``.
"""

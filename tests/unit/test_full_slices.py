"""The daily full reconciliation in slices (issue 17): the daemon's first passes of a day read
``FULL_SLICE`` pairs whole each until every pair was (``full_slice_of``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scheduler.engine.snapshot import full_slice_of

DAY = "2027-03-01"
_KEYS = st.sets(st.from_regex(r"[a-z]{1,4}@x\.example/[a-z]{1,4}@x\.example", fullmatch=True))


def _round(keys: set[str], size: int, state: str | None = None) -> list[frozenset[str]]:
    """The slices of one day's round from ``state`` on, as successive passes take them."""
    taken = []
    for _ in range(len(keys) + 1):
        whole, last = full_slice_of(keys, DAY, state, size)
        taken.append(whole)
        if last is None:
            return taken
        state = f"{DAY} {last}"
    raise AssertionError("the round never ends")


@given(_KEYS, st.integers(min_value=0, max_value=7))
def test_a_round_reads_every_pair_once_in_slices_of_the_size_asked(
    keys: set[str], size: int
) -> None:
    """A size under one is one: every pass reads at least one pair more."""
    slices = _round(keys, size)
    wanted = max(size, 1)
    assert sorted(key for one in slices for key in one) == sorted(keys)
    assert all(len(one) == wanted for one in slices[:-1])
    assert 0 < len(slices[-1]) <= wanted or not keys
    assert [sorted(one) for one in slices] == sorted(sorted(one) for one in slices)


@given(_KEYS, _KEYS, st.integers(min_value=1, max_value=5))
def test_pairs_added_or_removed_during_the_day_leave_the_others_their_turn(
    before: set[str], after: set[str], size: int
) -> None:
    """Half the round over the org of the morning, the rest over the org's new file: every
    pair in both is read whole once; none is read twice."""
    first, last = full_slice_of(before, DAY, None, size)
    state = None if last is None else f"{DAY} {last}"
    rest = _round(after, size, state) if state is not None else []
    read = [key for one in [first, *rest] for key in one]
    assert len(read) == len(set(read))
    assert before & after <= set(read)


def test_a_round_left_unfinished_on_an_earlier_day_starts_again_from_the_first_pair() -> None:
    keys = {"a@x.example/b@x.example", "c@x.example/d@x.example", "e@x.example/f@x.example"}
    whole, last = full_slice_of(keys, DAY, "2027-02-28 c@x.example/d@x.example", 1)
    assert whole == {"a@x.example/b@x.example"} and last == "a@x.example/b@x.example"
    whole, last = full_slice_of(keys, DAY, f"{DAY} c@x.example/d@x.example", 1)
    assert whole == {"e@x.example/f@x.example"} and last is None
    whole, last = full_slice_of(keys, DAY, None, 5)
    assert whole == keys and last is None

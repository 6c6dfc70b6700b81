"""Action items: read them out of an agenda people edited, and match them with the ledger's.

Pure: text in, values out; no I/O, no clock.

``parse_items(markdown)`` finds the checkbox lines (``- [ ]``, ``- [x]``, ``- [X]``, also ``*``,
``+`` and numbered list markers, at any indentation) in the document's "Action items" section:
every section whose heading (ATX ``#``..``######`` or setext; case, emphasis, a trailing colon
and emoji ignored) reads "Action items", down to the next heading of the same or a higher
level. With no such heading, every checkbox line of the document counts: people rename or
delete headings, and an item must not be lost for that. Lines inside fenced code blocks are
never items, and an empty checkbox (the ``- [ ]`` line the template leaves for new items) is
not one either.

``carry_over(previous_open, document)`` matches the open items the product put into the last
agenda (``TrackedItem``: a stable ``id`` and the text) with what people left in it. People
reword, reorder, fix typos, change case and punctuation, so texts are compared normalised
(case-folded; markdown emphasis, punctuation and extra whitespace removed): exact matches first,
then the best fuzzy matches by ``difflib.SequenceMatcher`` ratio (the higher of the ratio of the
texts and of their words sorted, so "renewal call with Acme" still matches "call Acme about
the renewal"), at least ``MATCH_THRESHOLD``, assigned greedily best-first and one-to-one.

What the result means:
- ``done``: tracked items now ticked; ``still_open``: tracked items still unticked, with the
  wording people left (``Match.text``), which the next agenda uses.
- ``dropped``: tracked items no longer in the document. A deleted line is the clearest way a
  person says "no longer relevant", and people win, so it is not carried forward; it is
  reported so the ledger can record it as dropped rather than lose its history.
- ``added``: items people wrote themselves, open or ticked; the caller gives them new ids.
- ``wiped``: every tracked item vanished and the document holds no checkbox at all. That is
  what a truncated download or an export gone wrong looks like, not a decision; like a calendar
  that suddenly reads empty, the caller should keep the items open and say why.

Exports: Item, TrackedItem, Match, CarryResult, parse_items, carry_over, normalise,
similarity, MATCH_THRESHOLD, SECTION_TITLE.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MATCH_THRESHOLD",
    "SECTION_TITLE",
    "CarryResult",
    "Item",
    "Match",
    "TrackedItem",
    "carry_over",
    "normalise",
    "parse_items",
    "similarity",
]

#: Lowest ``similarity`` at which a reworded item is still the same item.
MATCH_THRESHOLD = 0.6
#: The heading (normalised) of the section items are read from.
SECTION_TITLE = "action items"

_ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CHECKBOX_RE = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+\[([ xX])\](?:\s+(.*?))?\s*$")
_EMPHASIS = str.maketrans("", "", "*_~`")


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Item:
    """One checkbox line of a document: its text, whether it is ticked, its 1-based line."""

    text: str
    done: bool
    line: int


@dataclass(frozen=True, slots=True)
class TrackedItem:
    """An open action item the ledger knows, with the id its history hangs on."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Match:
    """A tracked item and the document line it became; ``score`` is 1.0 for an exact match."""

    tracked: TrackedItem
    item: Item
    score: float

    @property
    def text(self) -> str:
        """The wording people left, which is what the next agenda shows."""
        return self.item.text

    @property
    def reworded(self) -> bool:
        return self.item.text != self.tracked.text


@dataclass(frozen=True, slots=True)
class CarryResult:
    """What became of the tracked items in one document, and what people added to it."""

    done: tuple[Match, ...]
    still_open: tuple[Match, ...]
    dropped: tuple[TrackedItem, ...]
    added: tuple[Item, ...]
    wiped: bool = False

    @property
    def added_open(self) -> tuple[Item, ...]:
        return tuple(item for item in self.added if not item.done)

    @property
    def added_done(self) -> tuple[Item, ...]:
        return tuple(item for item in self.added if item.done)

    @property
    def carried_forward(self) -> tuple[str, ...]:
        """The texts the next agenda lists as open, in document order."""
        open_items = [m.item for m in self.still_open] + list(self.added_open)
        return tuple(item.text for item in sorted(open_items, key=lambda item: item.line))


# --------------------------------------------------------------------------- parsing


def _heading_title(text: str) -> str:
    """Letters, digits and single spaces only, so "✅ **Action items:**" still counts."""
    kept = "".join(ch if ch.isalnum() else " " for ch in normalise(text))
    return " ".join(kept.split())


def parse_items(markdown: str) -> list[Item]:
    """The checkbox items of the "Action items" section (see the module docstring)."""
    lines = markdown.split("\n")
    # (line index, level, normalised title) of every heading outside code.
    headings: list[tuple[int, int, str]] = []
    in_code: list[bool] = []
    fence: str | None = None
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r")
        opened = _FENCE_RE.match(line)
        if fence is not None:
            in_code.append(True)
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            in_code.append(True)
            continue
        in_code.append(False)
        atx = _ATX_RE.match(line)
        if atx:
            headings.append((index, len(atx.group(1)), _heading_title(atx.group(2) or "")))
            continue
        setext = _SETEXT_RE.match(line)
        if setext and index > 0 and not in_code[index - 1]:
            above = lines[index - 1].strip()
            if above and not _CHECKBOX_RE.match(above) and not _ATX_RE.match(above):
                level = 1 if setext.group(1)[0] == "=" else 2
                headings.append((index - 1, level, _heading_title(above)))

    ranges: list[range] = []
    for position, (start, level, title) in enumerate(headings):
        if title != SECTION_TITLE:
            continue
        end = len(lines)
        for later, later_level, _ in headings[position + 1 :]:
            if later > start and later_level <= level:
                end = later
                break
        ranges.append(range(start + 1, end))
    if not headings or not ranges:
        ranges = [range(len(lines))]

    items: list[Item] = []
    seen: set[int] = set()
    for span in ranges:
        for index in span:
            if index in seen or in_code[index]:
                continue
            seen.add(index)
            found = _CHECKBOX_RE.match(lines[index].rstrip("\r"))
            if found and found.group(2):
                text = " ".join(found.group(2).split())
                items.append(Item(text=text, done=found.group(1) != " ", line=index + 1))
    return items


# --------------------------------------------------------------------------- matching


def normalise(text: str) -> str:
    """The text as matching sees it: case-folded, no emphasis, punctuation or extra spaces.

    Text that is nothing but punctuation keeps its punctuation, so it can still match itself.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    plain = folded.translate(_EMPHASIS)
    words = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in plain)
    result = " ".join(words.split())
    return result or " ".join(folded.split())


def similarity(a: str, b: str) -> float:
    """How alike two normalised texts are, 0 to 1: the better of as-written and words sorted."""
    if a == b:
        return 1.0
    as_written = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    sorted_a, sorted_b = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    reordered = difflib.SequenceMatcher(None, sorted_a, sorted_b, autojunk=False).ratio()
    return max(as_written, reordered)


def carry_over(previous_open: Sequence[TrackedItem], document: str) -> CarryResult:
    """Match the tracked open items with the document's items (see the module docstring)."""
    items = parse_items(document)
    tracked_keys = [normalise(t.text) for t in previous_open]
    item_keys = [normalise(i.text) for i in items]
    pairs: dict[int, tuple[int, float]] = {}  # tracked index -> (item index, score)
    used: set[int] = set()

    # Exact matches first, in order, so duplicates pair up with duplicates line by line.
    by_key: dict[str, list[int]] = {}
    for index, key in enumerate(item_keys):
        by_key.setdefault(key, []).append(index)
    for t_index, key in enumerate(tracked_keys):
        candidates = by_key.get(key)
        if candidates:
            i_index = candidates.pop(0)
            pairs[t_index] = (i_index, 1.0)
            used.add(i_index)

    # Then every remaining pair at or above the threshold, best first; ties by position so the
    # result does not depend on set or dict ordering.
    scored: list[tuple[float, int, int]] = []
    for t_index, t_key in enumerate(tracked_keys):
        if t_index in pairs:
            continue
        for i_index, i_key in enumerate(item_keys):
            if i_index in used:
                continue
            score = similarity(t_key, i_key)
            if score >= MATCH_THRESHOLD:
                scored.append((score, t_index, i_index))
    scored.sort(key=lambda entry: (-entry[0], entry[1], entry[2]))
    for score, t_index, i_index in scored:
        if t_index in pairs or i_index in used:
            continue
        pairs[t_index] = (i_index, score)
        used.add(i_index)

    done: list[Match] = []
    still_open: list[Match] = []
    dropped: list[TrackedItem] = []
    for t_index, tracked in enumerate(previous_open):
        if t_index not in pairs:
            dropped.append(tracked)
            continue
        i_index, score = pairs[t_index]
        match = Match(tracked=tracked, item=items[i_index], score=score)
        (done if match.item.done else still_open).append(match)
    added = tuple(item for index, item in enumerate(items) if index not in used)
    wiped = bool(previous_open) and not items
    return CarryResult(
        done=tuple(done),
        still_open=tuple(still_open),
        dropped=tuple(dropped),
        added=added,
        wiped=wiped,
    )

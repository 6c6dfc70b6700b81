"""The agenda page's editor, the pure part: what a save from the page does to a document's text.

Pure: no I/O, no clock (the caller stamps notes). ``scheduler.agenda.documents`` reads and
writes the documents; ``scheduler.server`` serves the page.

A document's **version** is a hash of its text (``version_of``): the page carries the version
it showed (a hidden field, or ``If-Match``), and a save is applied only while the document
still has that version, wherever it was edited (the page, a text editor on the file, another
replica). The edits the page makes are an ``Edit``:

- ``ticks``: the action items the page showed (``seen``, in order) and which of them were
  ticked: each is found again in the text by its words (``normalise``), one to one, so the same
  edit applies to a newer text too (the merge view's suggestion);
- ``adds``: new action items, written as ``- [ ] text`` after the last item of the "Action
  items" section (a section is added at the end when there is none);
- ``note``: a paragraph added under a "Notes" heading (added at the end when there is none);
- ``text``: the whole document, as typed in the page's full editor (replaces it all).

Only lines that change are touched: everything else people wrote stays byte for byte.

Exports: Edit, version_of, apply_edit, line_diff, MAX_ITEM_CHARS, MAX_NOTE_CHARS.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.agenda.items import SECTION_TITLE, normalise, parse_items

__all__ = ["MAX_ITEM_CHARS", "MAX_NOTE_CHARS", "Edit", "apply_edit", "line_diff", "version_of"]

#: One action item is a line, not a page.
MAX_ITEM_CHARS = 500
#: A note is a few paragraphs.
MAX_NOTE_CHARS = 20_000

_BOX = re.compile(r"^(\s*(?:[-*+]|\d{1,9}[.)])\s+\[)([ xX])(\].*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
NOTES_TITLE = "notes"


def version_of(text: str) -> str:
    """The version of a document: 32 hex digits of the SHA-256 of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Edit:
    """What one save from the page asks for (see the module docstring)."""

    seen: tuple[str, ...] = ()
    ticked: frozenset[int] = field(default_factory=frozenset)
    adds: tuple[str, ...] = ()
    note: str = ""
    #: the whole text from the full editor; ``None`` for an items-and-notes save
    text: str | None = None

    @property
    def empty(self) -> bool:
        return self.text is None and not self.adds and not self.note.strip() and not self.seen


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_ITEM_CHARS]


def _split(text: str) -> tuple[list[str], str]:
    """Lines without their ending, and the ending the document uses."""
    ending = "\r\n" if "\r\n" in text else "\n"
    return text.split(ending), ending


def _apply_ticks(lines: list[str], seen: Sequence[str], ticked: frozenset[int]) -> None:
    """Set each seen item's box to ticked or not, found by its words, one to one."""
    items = parse_items("\n".join(lines))
    used: set[int] = set()
    for index, words in enumerate(seen):
        key = normalise(words)
        for item in items:
            if item.line in used or normalise(item.text) != key:
                continue
            used.add(item.line)
            row = item.line - 1
            found = _BOX.match(lines[row])
            if found is not None:
                mark = "x" if index in ticked else " "
                if (found.group(2) != " ") != (mark == "x"):
                    lines[row] = f"{found.group(1)}{mark}{found.group(3)}"
            break


def _section(lines: Sequence[str], title: str) -> tuple[int, int] | None:
    """(heading line, end line) of the first section whose heading reads ``title``."""
    for index, line in enumerate(lines):
        found = _HEADING.match(line)
        if found is None or " ".join(normalise(found.group(2)).split()) != title:
            continue
        level = len(found.group(1))
        end = len(lines)
        for later in range(index + 1, len(lines)):
            other = _HEADING.match(lines[later])
            if other is not None and len(other.group(1)) <= level:
                end = later
                break
        return index, end
    return None


def _apply_adds(lines: list[str], adds: Sequence[str]) -> list[str]:
    new = [f"- [ ] {_one_line(text)}" for text in adds if text.strip()]
    if not new:
        return lines
    section = _section(lines, SECTION_TITLE)
    if section is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return [*lines, "", "## Action items", "", *new, ""]
    heading, end = section
    last_item = None
    for index in range(heading + 1, end):
        found = _BOX.match(lines[index])
        if found is not None and found.group(3)[1:].strip():
            last_item = index
    if last_item is not None:
        return [*lines[: last_item + 1], *new, *lines[last_item + 1 :]]
    # No item yet: before the empty placeholder box, else after the section's text.
    for index in range(heading + 1, end):
        if _BOX.match(lines[index]):
            return [*lines[:index], *new, *lines[index:]]
    at = end
    while at > heading + 1 and not lines[at - 1].strip():
        at -= 1
    return [*lines[:at], "", *new, "", *lines[end:]]


def _apply_note(lines: list[str], note: str) -> list[str]:
    text = note.strip()[:MAX_NOTE_CHARS]
    if not text:
        return lines
    paragraph = [line.rstrip() for line in text.splitlines()]
    section = _section(lines, NOTES_TITLE)
    if section is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return [*lines, "", "## Notes", "", *paragraph, ""]
    _, end = section
    at = end
    while at > 0 and not lines[at - 1].strip():
        at -= 1
    return [*lines[:at], "", *paragraph, "", *lines[end:]]


def apply_edit(text: str, edit: Edit) -> str:
    """``text`` with ``edit`` made to it (see the module docstring)."""
    if edit.text is not None:
        return edit.text
    lines, ending = _split(text)
    _apply_ticks(lines, edit.seen, edit.ticked)
    lines = _apply_adds(lines, edit.adds)
    lines = _apply_note(lines, edit.note)
    return ending.join(lines)


def line_diff(theirs: str, yours: str) -> list[tuple[str, str]]:
    """(kind, line) of a line diff from ``theirs`` to ``yours``: kind is ``same``,
    ``theirs`` (only in theirs) or ``yours`` (only in yours): the merge view shows it."""
    rows: list[tuple[str, str]] = []
    a, b = theirs.splitlines(), yours.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(("same", line) for line in a[i1:i2])
            continue
        rows.extend(("theirs", line) for line in a[i1:i2])
        rows.extend(("yours", line) for line in b[j1:j2])
    return rows

"""The agenda web page: its HTML (the editor, the merge view) and the reading of its form.

No I/O besides the package's templates: ``scheduler.server`` reads and saves the document
(``scheduler.agenda.documents``) and sends what this module renders.

Exports: parse_form, FormProblem, render_editor, render_conflict, render_document,
render_version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from scheduler.agenda.editor import (
    MAX_ITEM_CHARS,
    MAX_NOTE_CHARS,
    Edit,
    apply_edit,
    line_diff,
)
from scheduler.agenda.items import parse_items
from scheduler.pages import render
from scheduler.store.ledger import AgendaVersion

__all__ = [
    "FormProblem",
    "apply_edit",
    "parse_form",
    "render_conflict",
    "render_document",
    "render_editor",
    "render_version",
]

#: Fields of one form: a handful of items added at once, not a bulk import.
MAX_ADDS = 20


class FormProblem(ValueError):
    """The form cannot be read; the message says why, for the page."""


def markdown() -> MarkdownIt:
    # "commonmark" with html=False: raw HTML in an agenda is text, never markup (people and
    # templates write these files; a page must not run what they typed). Tables on.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


# "$" too: Markdown drops the trailing blank of the template's empty "- [ ] " line, which
# then showed as a literal "[ ]".
_TASK = re.compile(r"^\[([ xX])\](?:\s|$)")


def _task_items(tokens: list[Token]) -> None:
    """Turn ``- [ ] item`` / ``- [x] item`` list items into disabled checkboxes, in place."""
    for index, token in enumerate(tokens):
        if (
            token.type != "inline"
            or index < 2
            or tokens[index - 1].type != "paragraph_open"
            or tokens[index - 2].type != "list_item_open"
            or not token.children
            or token.children[0].type != "text"
        ):
            continue
        first = token.children[0]
        match = _TASK.match(first.content)
        if match is None:
            continue
        first.content = first.content[match.end() :]
        checked = " checked" if match[1] in "xX" else ""
        box = Token("html_inline", "", 0)
        box.content = f'<input type="checkbox" disabled{checked}> '
        token.children.insert(0, box)
        tokens[index - 2].attrSet("class", "task")


def render_document(md: MarkdownIt, text: str) -> Markup:
    """The Markdown ``text`` as HTML; everything it says is escaped (markdown-it, html off)."""
    env: dict[str, Any] = {}
    tokens = md.parse(text, env)
    _task_items(tokens)
    return Markup(md.renderer.render(tokens, md.options, env))


@dataclass(frozen=True, slots=True)
class Submitted:
    """A form as posted: the version it was read at and the edit it asks for."""

    version: str
    edit: Edit


def parse_form(form: Mapping[str, Sequence[str]], if_match: str = "") -> Submitted:
    """The save a posted form asks for; ``FormProblem`` when it cannot be one."""

    def one(name: str) -> str:
        values = form.get(name) or [""]
        return values[0]

    version = one("version") or if_match.strip().removeprefix("W/").strip('"')
    if not re.fullmatch(r"[0-9a-f]{32}", version):
        raise FormProblem("the page was not read before saving (no version); reload it")
    kind = one("form") or "items"
    if kind == "text":
        text = one("text").replace("\r\n", "\n")
        return Submitted(version, Edit(text=text))
    if kind != "items":
        raise FormProblem(f"unknown form {kind!r}")
    seen = tuple(form.get("item", []))
    ticked: set[int] = set()
    for value in form.get("done", []):
        if not value.isdigit() or int(value) >= len(seen):
            raise FormProblem("a ticked item is not one of the page's items; reload the page")
        ticked.add(int(value))
    adds = tuple(text for text in form.get("add", []) if text.strip())
    if len(adds) > MAX_ADDS:
        raise FormProblem(f"at most {MAX_ADDS} items can be added at once")
    if any(len(text) > MAX_ITEM_CHARS for text in adds):
        raise FormProblem(f"an action item is at most {MAX_ITEM_CHARS} characters")
    note = one("note").replace("\r\n", "\n")
    if len(note) > MAX_NOTE_CHARS:
        raise FormProblem(f"a note is at most {MAX_NOTE_CHARS} characters")
    return Submitted(version, Edit(seen=seen, ticked=frozenset(ticked), adds=adds, note=note))


def render_editor(
    md: MarkdownIt,
    *,
    title: str,
    text: str,
    version: str,
    action: str,
    versions: Sequence[AgendaVersion],
    saved: int | None = None,
    problem: str | None = None,
) -> bytes:
    """The agenda page: the items-and-notes form, the document, the full-text editor, and
    the list of kept versions (times in the zone of ``versions``' stamps)."""
    items = [item for item in parse_items(text)]
    return render(
        "agenda.html.j2",
        title=title,
        document=render_document(md, text),
        items=items,
        text=text,
        version=version,
        action=action,
        versions=versions,
        saved=saved,
        problem=problem,
        max_item=MAX_ITEM_CHARS,
        max_note=MAX_NOTE_CHARS,
    )


def render_version(
    *, title: str, kept: AgendaVersion, count: int, action: str, saved_at: str
) -> bytes:
    """One kept version, read-only."""
    return render(
        "agenda_version.html.j2",
        title=title,
        kept=kept,
        count=count,
        action=action,
        saved_at=saved_at,
    )


def render_conflict(
    *,
    title: str,
    theirs: str,
    base: str | None,
    edit: Edit,
    version: str,
    action: str,
) -> bytes:
    """The merge view of a save that crossed another: theirs, yours, what differs, and a
    merged text to check and save (your edit made again on their text: ticks and new items
    land on theirs; a full-text edit is offered as you typed it)."""
    yours = apply_edit(base if base is not None else theirs, edit)
    merged = apply_edit(theirs, edit) if edit.text is None else yours
    return render(
        "conflict.html.j2",
        title=title,
        theirs=theirs,
        yours=yours,
        diff=line_diff(theirs, yours),
        merged=merged,
        version=version,
        action=action,
    )

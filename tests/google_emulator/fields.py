"""The ``fields`` system parameter: partial responses.

Syntax ("Work with partial resources", https://developers.google.com/workspace/calendar/api/guides/performance#partial-response,
and Drive's "Return specific fields", https://developers.google.com/workspace/drive/api/guides/fields-parameter):
a comma-separated list; ``a/b`` selects ``b`` inside ``a``; ``a(b,c)`` selects ``b`` and ``c``
inside ``a`` (in each element when ``a`` is a list); ``*`` selects everything.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request

#: name -> sub-selection (None: the whole value)
Selection = dict[str, "Selection | None"]


def parse(text: str) -> Selection | None:
    """The selection ``text`` names, or None for everything (``*`` or empty)."""
    text = text.strip()
    if not text or text == "*":
        return None
    selection, position = _parse_list(text, 0)
    if position != len(text):
        raise bad_request("Invalid field selection " + text, "invalidParameter", location="fields")
    return selection


def _parse_list(text: str, position: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while True:
        position = _parse_item(text, position, selection)
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return selection, position


def _parse_item(text: str, position: int, into: Selection) -> int:
    start = position
    while position < len(text) and text[position] not in ",()":
        position += 1
    path = text[start:position].strip()
    if not path:
        raise bad_request("Invalid field selection " + text, "invalidParameter", location="fields")
    sub: Selection | None = None
    if position < len(text) and text[position] == "(":
        sub, position = _parse_list(text, position + 1)
        if position >= len(text) or text[position] != ")":
            raise bad_request(
                "Invalid field selection " + text, "invalidParameter", location="fields"
            )
        position += 1
    names = [name.strip() for name in path.split("/")]
    target = into
    for name in names[:-1]:
        existing = target.get(name, {})
        if existing is None:
            return position
        target[name] = existing
        target = existing
    last = names[-1]
    if last == "*":
        sub = None
    if last in target and target[last] is not None and sub is not None:
        merged = target[last]
        assert merged is not None
        merged.update(sub)
    else:
        target[last] = sub
    return position


def apply(value: Any, selection: Selection | None) -> Any:
    """``value`` cut down to ``selection``."""
    if selection is None:
        return value
    if isinstance(value, list):
        return [apply(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in selection:
        return value
    out = {}
    for name, sub in selection.items():
        if name in value:
            out[name] = apply(value[name], sub)
    return out

"""Multipart bodies: ``multipart/related`` uploads and ``multipart/mixed`` batches.

googleapiclient writes both with :mod:`email` generators (``\\n`` line ends); Google's own
clients use ``\\r\\n``.  Both are read here.
"""

from __future__ import annotations

import re
from email.message import Message

from .errors import bad_request


def boundary_of(content_type: str) -> str:
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise bad_request("Missing multipart boundary.")
    return boundary


def split_headers(raw: bytes) -> tuple[dict[str, str], bytes]:
    """Header lines (lower-case names) and what follows the first empty line."""
    match = re.search(rb"\r?\n\r?\n", raw)
    if match is None:
        head, rest = raw, b""
    else:
        head, rest = raw[: match.start()], raw[match.end() :]
    headers: dict[str, str] = {}
    last = None
    for line in re.split(rb"\r?\n", head):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and last is not None:
            headers[last] += " " + line.strip().decode("latin-1")
            continue
        name, _, value = line.decode("latin-1").partition(":")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers, rest


def parts(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body: (headers, content) each."""
    delimiter = b"--" + boundary_of(content_type).encode("latin-1")
    pieces = body.split(delimiter)
    out = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        elif piece.startswith(b"\n"):
            piece = piece[1:]
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        elif piece.endswith(b"\n"):
            piece = piece[:-1]
        out.append(split_headers(piece))
    return out

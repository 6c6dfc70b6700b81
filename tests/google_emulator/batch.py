"""Batch requests: ``POST /batch/calendar/v3`` and ``POST /batch/drive/v3``.

Format ("Send batch requests", https://developers.google.com/workspace/calendar/api/guides/batch,
and Drive's https://developers.google.com/workspace/drive/api/guides/performance#batch-requests):
a ``multipart/mixed`` body whose parts have ``Content-Type: application/http`` and an optional
``Content-ID``, each holding one whole HTTP request (request line, headers, body).  The answer
is ``multipart/mixed`` too, one ``application/http`` part per request, in order, with
``Content-ID: <response-ID>`` for the request's ``<ID>``.  "A set of n requests batched
together counts toward your usage limit as n requests"; each part is authorised on its own
(its ``Authorization`` header, else the outer request's).  "You're limited to 1000 calls in a
single batch request" for Calendar and 100 for Drive; a larger batch is refused whole.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from http import HTTPStatus

from .mime import parts, split_headers

LIMITS = {"calendar": 1000, "drive": 100}


@dataclass
class Part:
    content_id: str | None
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def read(content_type: str, body: bytes) -> list[Part]:
    out = []
    for part_headers, payload in parts(content_type, body):
        # the nested request: "GET /calendar/v3/... HTTP/1.1", headers, empty line, body
        if payload.startswith(b"\r\n"):
            payload = payload[2:]
        line, _, rest = payload.partition(b"\n")
        words = line.decode("latin-1").strip().split()
        if len(words) < 2:
            raise ValueError("bad batch part request line")
        headers, request_body = split_headers(rest)
        length = headers.get("content-length")
        if length is not None and length.isdigit():
            request_body = request_body[: int(length)]
        out.append(
            Part(part_headers.get("content-id"), words[0].upper(), words[1], headers, request_body)
        )
    return out


def response_id(content_id: str | None) -> str | None:
    """``<abc + 1>`` -> ``<response-abc + 1>`` (what Google answers and clients expect)."""
    if content_id is None:
        return None
    inner = content_id.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    return f"<response-{inner}>"


def write(
    answers: list[tuple[str | None, int, dict[str, str], bytes]],
) -> tuple[str, bytes]:
    """(content type, body) of a batch answer; each answer: (Content-ID, status, headers, body)."""
    boundary = "batch_" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for content_id, status, headers, body in answers:
        head = ["Content-Type: application/http"]
        rid = response_id(content_id)
        if rid is not None:
            head.append(f"Content-ID: {rid}")
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        inner = [f"HTTP/1.1 {status} {reason}"]
        for name, value in headers.items():
            inner.append(f"{name}: {value}")
        inner.append(f"Content-Length: {len(body)}")
        chunk = (
            (
                f"--{boundary}\r\n"
                + "\r\n".join(head)
                + "\r\n\r\n"
                + "\r\n".join(inner)
                + "\r\n\r\n"
            ).encode("utf-8")
            + body
            + b"\r\n"
        )
        chunks.append(chunk)
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)


def too_many(api: str, count: int) -> bytes:
    limit = LIMITS[api]
    message = f"A batch request may contain at most {limit} calls; this one has {count}."
    return json.dumps(
        {
            "error": {
                "code": 400,
                "message": message,
                "errors": [{"domain": "global", "reason": "badRequest", "message": message}],
                "status": "INVALID_ARGUMENT",
            }
        }
    ).encode()

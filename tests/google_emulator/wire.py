"""One API call as the backends see it, and their answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .oauth import Grant


@dataclass
class Call:
    """A request routed to one API method (a batch part is one too)."""

    method_id: str
    http_method: str
    user: str
    grant: Grant
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    #: the request came in on the upload path (``/upload/...``)
    upload: bool = False

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def q_all(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def q_bool(self, name: str, default: bool = False) -> bool:
        value = self.q(name)
        if value is None:
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise bad_request(f"Invalid boolean value: '{value}'", "invalidParameter", location=name)

    def q_int(self, name: str, default: int) -> int:
        value = self.q(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise bad_request(
                f"Invalid value '{value}'. Values must match the following regular expression: "
                "'-?\\d+'",
                "invalidParameter",
                location=name,
            ) from None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("Parse Error", "parseError") from None
        if not isinstance(value, dict):
            raise bad_request("Parse Error", "parseError")
        return value


@dataclass
class Reply:
    """An answer: JSON (``body`` a dict), raw bytes, or nothing (204/304)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    #: a partial response was already applied (``fields``), or must not be
    raw: bool = False

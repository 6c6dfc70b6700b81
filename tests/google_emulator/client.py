"""Build googleapiclient services against the emulator, as the product's factory does.

The packaged discovery documents (``scheduler/providers/google/discovery/``) get their
``rootUrl`` (and ``mtlsRootUrl``) pointed at the emulator, so single requests, batches
(``rootUrl + batchPath``) and media uploads (``rootUrl + "upload/" + servicePath``) all go there.
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

from google.auth.credentials import Credentials
from googleapiclient.discovery import Resource, build_from_document


def discovery_document(api: str) -> dict[str, Any]:
    """The packaged discovery document of ``"calendar"`` or ``"drive"`` (v3)."""
    text = (
        importlib.resources.files("scheduler.providers.google") / "discovery" / f"{api}.v3.json"
    ).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def build_service(api: str, root_url: str, credentials: Credentials) -> Resource:
    """A ``calendar``/``drive`` v3 service whose every request goes to ``root_url``."""
    document = discovery_document(api)
    document["rootUrl"] = root_url
    if "mtlsRootUrl" in document:
        document["mtlsRootUrl"] = root_url
    return build_from_document(document, credentials=credentials)

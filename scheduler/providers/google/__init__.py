"""Google Calendar (and Drive, for agendas) for the product.

- ``client``: the one service factory (packaged discovery documents, ``api_endpoint``),
  retries with backoff, batches, errors in plain words.
- ``auth``: the least-privilege scopes and each person's credentials (a delegated service
  account, or the single organizer's OAuth token).
- ``events``: Google event resources to and from the product's values (pure).
- ``provider``: ``GoogleProvider`` and the per-process ``GoogleSession`` (sync caches, busy).

``session_for(org, store)`` gives the org's session, kept for the life of the process so a
daemon keeps its credentials, HTTP connections and sync caches from pass to pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.orgfile import Org
    from scheduler.providers.google.client import GoogleClient
    from scheduler.providers.google.provider import GoogleSession, StateStore

__all__ = ["client_for", "forget_sessions", "session_for"]

_SESSIONS: dict[tuple[Any, ...], GoogleSession] = {}


def session_for(org: Org, store: StateStore | None) -> GoogleSession:
    """The Google session of ``org`` for this process (people and organizers refreshed)."""
    from scheduler.providers.base import pair_roles
    from scheduler.providers.google.auth import credentials_for
    from scheduler.providers.google.client import GoogleClient
    from scheduler.providers.google.provider import GoogleSession

    key = _key(org)
    settings = org.google
    people = {
        email: person
        for email, person in org.people.items()
        if org.calendars[email].provider == "google"
    }
    session = _SESSIONS.get(key)
    if session is None:
        client = GoogleClient(
            lambda email: credentials_for(settings, email), api_endpoint=settings.api_endpoint
        )
        session = GoogleSession(client, people, (), store)
        _SESSIONS[key] = session
    session.people = people
    session.organizers, session.pair_managers, session.foreign_managers = pair_roles(
        org.pairs, people
    )
    return session


def client_for(org: Org) -> GoogleClient:
    """The org's Google client: the pass's session's when there is one (no refresh of its
    people, which costs a walk over every pair), else a new session's."""
    session = _SESSIONS.get(_key(org))
    return (session if session is not None else session_for(org, None)).client


def _key(org: Org) -> tuple[Any, ...]:
    return (str(org.path), org.database_url, org.google)


def forget_sessions() -> None:
    """Drop every kept session and credential (tests that start a fresh emulator)."""
    from scheduler.providers.google.auth import clear_cache

    _SESSIONS.clear()
    clear_cache()

"""Microsoft 365 calendars (Outlook / Exchange Online) through Microsoft Graph v1.0.

- ``auth``: app-only sign-in with client credentials through ``msal`` (secret from the
  variable named by ``[microsoft365] client_secret_env``, or a certificate).
- ``client``: httpx, retries honouring ``Retry-After``, JSON ``$batch``, errors in plain words.
- ``events``: Graph event resources to and from the product's values (pure).
- ``zones``: Windows time-zone names to IANA ones (CLDR's table, as ``tzlocal`` ships it).
- ``provider``: ``Microsoft365Provider`` and the per-process ``Microsoft365Session``.

``session_for(org, store)`` gives the org's session, kept for the life of the process so a
daemon keeps its token, connections and delta state from pass to pass.

``begin_pass(org, ledger, now, persist=...)`` readies it for a pass (the pass and ``check``
call it before making providers); ``provider_for(config, person)`` then gives a person's
provider on it.

``with_mailbox_settings(org, ledger, now, persist=...)`` begins the pass too, and gives the org
with the zone and working hours of each person on Microsoft 365 whose org-file entry sets
none taken from their ``mailboxSettings`` (read once a day, ``SETTINGS_REFRESH``); the pass and
``check`` call it first and go on with the org it gives.

Exports: session_for, begin_pass, with_mailbox_settings, provider_for, forget_sessions,
requests_per_mailbox.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from scheduler.errors import CalendarError
from scheduler.providers.base import pair_roles

if TYPE_CHECKING:
    from datetime import datetime

    from scheduler.domain import Person
    from scheduler.domain.settings import CalendarConfig, Microsoft365Settings
    from scheduler.orgfile import Org
    from scheduler.providers.microsoft365.provider import (
        Microsoft365Provider,
        Microsoft365Session,
        StateStore,
    )
    from scheduler.store.ledger import Ledger

__all__ = [
    "begin_pass",
    "forget_sessions",
    "provider_for",
    "requests_per_mailbox",
    "session_for",
    "with_mailbox_settings",
]

_SESSIONS: dict[tuple[Any, ...], Microsoft365Session] = {}
#: the session of the pass under way, by the org's settings
_CURRENT: dict[Microsoft365Settings, Microsoft365Session] = {}


def begin_pass(org: Org, ledger: Ledger | None, now: datetime, *, persist: bool) -> None:
    """Ready the org's session for a pass (nothing when nobody is on Microsoft 365); its
    delta state is kept in the ledger's state when ``persist``."""
    if not any(config.provider == "microsoft365" for config in org.calendars.values()):
        return
    from scheduler.providers.microsoft365.provider import StateStore

    store = StateStore(ledger.get_state, ledger.set_state) if ledger is not None else None
    session = session_for(org, store)
    session.begin(now, persist=persist and store is not None, store=store)
    _CURRENT[org.microsoft365] = session


def with_mailbox_settings(org: Org, ledger: Ledger | None, now: datetime, *, persist: bool) -> Org:
    """Begin the pass (``begin_pass``) and give ``org`` with the mailbox settings of the
    people on Microsoft 365 whose own org-file entry leaves their zone, working hours or
    workdays to the org's defaults (``Org.with_calendar_settings``; what the file sets wins).
    A person whose settings cannot be read keeps the defaults here, and their calendar
    counts as unread this pass (their provider's ``read`` says why)."""
    from scheduler.domain import GIVEN_ALL

    begin_pass(org, ledger, now, persist=persist)
    session = _CURRENT.get(org.microsoft365)
    if session is None:
        return org
    wanted = [
        email
        for email, person in org.people.items()
        if org.calendars[email].provider == "microsoft365" and person.given != GIVEN_ALL
    ]
    found = session.mailbox_settings(wanted)
    changed = org.with_calendar_settings(found)
    if changed is not org:
        session_for(changed, None)  # its people as the pass will plan them
    return changed


def provider_for(config: CalendarConfig, person: Person) -> Microsoft365Provider:
    """``person``'s provider on the session ``begin_pass`` readied."""
    from scheduler.providers.microsoft365.provider import Microsoft365Provider

    session = _CURRENT.get(config.microsoft365) if config.microsoft365 is not None else None
    if session is None:
        raise CalendarError(
            f"{person.email}: no Microsoft 365 session was started for this pass (a bug: "
            "begin_pass must run before the providers are made)"
        )
    return Microsoft365Provider(session, person.email)


def session_for(org: Org, store: StateStore | None) -> Microsoft365Session:
    """The Microsoft 365 session of ``org`` for this process (people and organizers
    refreshed)."""
    from scheduler.providers.microsoft365.auth import token_source
    from scheduler.providers.microsoft365.client import GraphClient
    from scheduler.providers.microsoft365.provider import Microsoft365Session

    key = (str(org.path), org.database_url, org.microsoft365)
    settings = org.microsoft365
    people = {
        email: person
        for email, person in org.people.items()
        if org.calendars[email].provider == "microsoft365"
    }
    session = _SESSIONS.get(key)
    if session is None:
        client = GraphClient(
            token_source(settings),
            settings.graph_url,
            ca_file=str(settings.ca_file) if settings.ca_file else None,
            secret_env=settings.client_secret_env,
        )
        session = Microsoft365Session(client, people, (), store)
        _SESSIONS[key] = session
    session.people = people
    session.organizers, session.pair_managers, session.foreign_managers = pair_roles(
        org.pairs, people
    )
    session.freeze = timedelta(hours=org.schedule.freeze_hours)
    return session


def requests_per_mailbox() -> Counter[str]:
    """HTTP requests sent so far by every session of this process, per mailbox."""
    total: Counter[str] = Counter()
    for session in _SESSIONS.values():
        total.update(session.client.requests)
    return total


def forget_sessions() -> None:
    """Drop every kept session and token (tests that start a fresh emulator)."""
    from scheduler.providers.microsoft365.auth import clear_cache

    for session in _SESSIONS.values():
        session.client.close()
    _SESSIONS.clear()
    _CURRENT.clear()
    clear_cache()

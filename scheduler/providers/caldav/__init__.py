"""CalDAV calendars (Nextcloud, Radicale, iCloud, Fastmail, SOGo, Baïkal, Xandikos) through
the ``caldav`` library.

``quirks`` (the one table of what servers do differently), ``client`` (the HTTP requests and
the mirror that makes an unchanged calendar cost one request a pass), ``provider`` (the
provider contract, the object model of vdir). ``provider_for`` builds a person's provider from
their ``calendar = { provider = "caldav", ... }``; the password is read from the environment
variable named by ``password_env`` and nowhere else, and never appears in a message.

Exports: CaldavProvider, provider_for, forget_sessions, REQUESTS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from scheduler.domain import Person
from scheduler.domain.settings import CalendarConfig
from scheduler.errors import CalendarError
from scheduler.providers.caldav.client import REQUESTS, forget_sessions, session_for
from scheduler.providers.caldav.provider import CaldavProvider

__all__ = ["REQUESTS", "CaldavProvider", "forget_sessions", "provider_for"]


def provider_for(
    config: CalendarConfig, person: Person, env: Mapping[str, str] | None = None
) -> CaldavProvider:
    """The CalDAV provider of ``person``; ``CalendarError`` naming the variable when the
    password is not set."""
    environ = os.environ if env is None else env
    variable = config.password_env or ""
    password = environ.get(variable, "") if variable else ""
    if not password:
        raise CalendarError(
            f"{person.email}: the CalDAV password is read from the environment variable "
            f"{variable or '(none named)'}, which is not set; set it, or name another one "
            "in password_env"
        )
    assert config.url is not None and config.username is not None
    calendar = session_for(
        config.url,
        config.username,
        password,
        who=person.email,
        password_env=variable,
        ca_file=config.ca_file,
        cache_dir=config.cache_dir,
    )
    return CaldavProvider(calendar, person.zone)

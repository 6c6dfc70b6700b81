"""An emulator of Microsoft Graph v1.0 calendars and of the identity platform's token endpoint,
for tests; its deviations from Microsoft's documented behaviour are listed in README.md.

``model`` holds the mailboxes (events, recurrence, attendees' copies, extended properties,
change keys); ``server`` the HTTPS server (tokens, routes, ``$batch``, delta, getSchedule,
mailboxSettings, faults) and the control API tests use.
"""

from .model import GraphError
from .server import GraphEmulator, Person

__all__ = ["GraphEmulator", "GraphError", "Person"]

"""Windows time-zone names (what Outlook and ``mailboxSettings`` use) to IANA names and back.

The table is CLDR's ``windowsZones.xml`` as ``tzlocal`` ships it (``tzlocal.windows_tz``,
regenerated from CLDR with each tzlocal release), not a hand-typed list. Graph accepts either
kind of name in a ``dateTimeTimeZone``; oneonone writes Windows names where one exists (Outlook
shows them) and reads both.

Exports: ``iana_zone``, ``iana_name``, ``windows_name``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

__all__ = ["iana_name", "iana_zone", "windows_name"]


def iana_name(name: str) -> str | None:
    """The IANA name of a Windows or IANA zone name; ``None`` for neither."""
    if not name:
        return None
    if name in win_tz:
        return win_tz[name]
    if name == "UTC" or name.startswith("Etc/"):
        return name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def iana_zone(name: str) -> ZoneInfo | None:
    found = iana_name(name)
    return ZoneInfo(found) if found else None


def windows_name(iana: str) -> str:
    """The Windows name of an IANA zone (CLDR's territory "001" mapping), else the IANA name."""
    return tz_win.get(iana, iana)

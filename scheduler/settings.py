"""Deployment settings from the environment (``ONEONONE_`` prefix, nested with ``__``).

The org file says who meets whom; these settings say where this deployment keeps things and
which clock it runs on, and carry secrets that must not live in a file under version control.

- ``ONEONONE_CONFIG`` (``--config``): the org file, default ``config/oneonone.toml``.
- ``ONEONONE_NOW`` (``--now``): the clock, ISO 8601. A value without an offset is read as wall
  time in the org time zone (see ``resolve_now``), because that is what an admin typing
  ``--now 2026-03-02T09:00`` means; the org zone is only known once the org file is loaded.
- ``ONEONONE_DATABASE_URL``: any SQLAlchemy URL; replaces the SQLite ledger in the data folder.
- ``ONEONONE_<TABLE>__<KEY>`` (``ONEONONE_SCHEDULE__HORIZON_WEEKS``,
  ``ONEONONE_NOTIFY__EMAIL__HOST``, ``ONEONONE_SERVER__BIND``, ...): any key of the org file's
  tables except ``[[person]]``, over the file's value. ``section_variables`` only splits the
  names; the org file's loader owns the schema, so these values are validated by the very
  models that validate the file, and a bad one is reported naming its variable
  (see ``scheduler.orgfile``).

Names are read without regard to case, an empty variable counts as unset, and other
``ONEONONE_*`` variables are ignored: some exist on purpose (the SMTP password named by
``password_env``, for one).

Exports: Settings, EnvVariable, load_settings, section_variables, resolve_now, ENV_PREFIX.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from scheduler.errors import UserError

__all__ = [
    "ENV_PREFIX",
    "EnvVariable",
    "Settings",
    "load_settings",
    "resolve_now",
    "section_variables",
]

ENV_PREFIX = "ONEONONE_"


class Settings(BaseSettings):
    """The settings that are not org-file keys, from the environment; command-line options
    are passed as keyword arguments."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        # Other ONEONONE_* variables exist on purpose (the SMTP password named by
        # password_env, for one), so unknown ones are ignored rather than refused.
        extra="ignore",
        # An exported-but-empty variable means "not set", as it does in most shells' configs.
        env_ignore_empty=True,
    )

    config: Path = Path("config/oneonone.toml")
    now: datetime | None = None
    database_url: str | None = None


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading a given mapping instead of ``os.environ`` (for tests)."""

    def __init__(self, settings_cls: type[BaseSettings], mapping: Mapping[str, str]) -> None:
        # Set before super().__init__, which loads the variables through _load_env_vars.
        self._mapping = dict(mapping)
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        if self.case_sensitive:
            return dict(self._mapping)
        return {key.lower(): value for key, value in self._mapping.items()}


# Command-line spellings of the settings that have one, for error messages.
_OPTION_NAMES = {"config": "--config", "now": "--now"}


def _setting_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(item) for item in loc]
    name = ENV_PREFIX + "__".join(parts).upper()
    option = _OPTION_NAMES.get(parts[0]) if parts else None
    return f"{name}/{option}" if option else name


def _problem(error: Mapping[str, Any]) -> str:
    name = _setting_name(tuple(error["loc"]))
    value = error.get("input")
    kind = str(error["type"])
    if name.startswith(ENV_PREFIX + "NOW"):
        return (
            f"{name}: {value!r} is not a date and time; use ISO 8601 such as "
            "2026-03-02T09:00:00-05:00 (without an offset it is read in the org time zone)"
        )
    if kind.startswith("int"):
        return f"{name}: {value!r} is not a whole number"
    if kind.startswith("bool"):
        return f"{name}: {value!r} is not true or false"
    return f"{name}: {value!r} is not a valid value"


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """The settings from ``env`` (default ``os.environ``); ``overrides`` win (command line).

    Overrides that are ``None`` are dropped, so a CLI can pass every option it has.
    Bad values raise ``UserError`` naming the variable, one sentence each.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        if env is None or env is os.environ:
            return Settings(**given)
        mapping = env

        class _FromMapping(Settings):
            @classmethod
            def settings_customise_sources(
                cls,
                settings_cls: type[BaseSettings],
                init_settings: PydanticBaseSettingsSource,
                env_settings: PydanticBaseSettingsSource,
                dotenv_settings: PydanticBaseSettingsSource,
                file_secret_settings: PydanticBaseSettingsSource,
            ) -> tuple[PydanticBaseSettingsSource, ...]:
                return (init_settings, _MappingEnvSource(settings_cls, mapping))

        return _FromMapping(**given)
    except ValidationError as exc:
        raise UserError([_problem(error) + "." for error in exc.errors()]) from None


class EnvVariable(NamedTuple):
    """One ``ONEONONE_A__B__C`` variable: its name as set, its key path, its text."""

    name: str
    #: the name without the prefix, split at ``__`` and lowercased: ("schedule", "horizon_weeks")
    path: tuple[str, ...]
    text: str


def section_variables(env: Mapping[str, str] | None = None) -> list[EnvVariable]:
    """Every non-empty ``ONEONONE_*`` variable of ``env`` (default ``os.environ``), split into a
    key path, sorted by name. Which paths are org-file keys is the org file loader's business.
    """
    found = []
    for name, text in (os.environ if env is None else env).items():
        if not name.upper().startswith(ENV_PREFIX) or text == "":
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if all(parts):
            found.append(EnvVariable(name, tuple(parts), text))
    return sorted(found)


def resolve_now(now: datetime | None, zone: ZoneInfo) -> datetime:
    """The clock as an aware datetime: ``now`` if given (naive means wall time in ``zone``),
    else the real time."""
    if now is None:
        return datetime.now(zone)
    if now.tzinfo is None or now.utcoffset() is None:
        return now.replace(tzinfo=zone)
    return now

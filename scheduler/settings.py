"""Deployment settings from the environment (``ONEONONE_`` prefix, nested with ``__``).

The org file says who meets whom; these settings say where this deployment keeps things and
which clock it runs on, and carry secrets that must not live in a file under version control.

- ``ONEONONE_CONFIG`` (``--config``): the org file, default ``config/oneonone.toml``.
- ``ONEONONE_NOW`` (``--now``): the clock, ISO 8601. A value without an offset is read as wall
  time in the org time zone (see ``resolve_now``), because that is what an admin typing
  ``--now 2026-03-02T09:00`` means; the org zone is only known once the org file is loaded.
- ``ONEONONE_DATABASE_URL``: any SQLAlchemy URL; replaces the SQLite ledger in the data folder.
- ``ONEONONE_SERVER__BIND`` / ``ONEONONE_SERVER__PUBLIC_URL``: override ``[server]`` (a
  container binds ``0.0.0.0:8321`` inside, whatever the org file says).
- ``ONEONONE_NOTIFY__EMAIL__HOST`` / ``__PORT`` / ``__STARTTLS`` / ``__USERNAME`` / ``__FROM``:
  override ``[notify.email]`` per deployment (the SMTP password itself is read from the
  variable the org file names in ``password_env``).
- ``ONEONONE_GOOGLE__SERVICE_ACCOUNT_FILE`` / ``__OAUTH_CLIENT_FILE`` / ``__TOKEN_FILE`` /
  ``__API_ENDPOINT``: override ``[google]`` (a key file mounted as a container secret, an
  emulator's address). Relative paths here are relative to the current folder, like
  ``--config``, not to the org file's.

Exports: Settings, NotifyOverrides, EmailOverrides, ServerOverrides, GoogleOverrides,
load_settings, resolve_now.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from scheduler.errors import UserError

__all__ = [
    "EmailOverrides",
    "GoogleOverrides",
    "NotifyOverrides",
    "ServerOverrides",
    "Settings",
    "load_settings",
    "resolve_now",
]

ENV_PREFIX = "ONEONONE_"


class EmailOverrides(BaseModel):
    """Per-deployment overrides of ``[notify.email]``; ``None`` keeps the org file's value."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    host: str | None = None
    port: int | None = None
    starttls: bool | None = None
    username: str | None = None
    # ``from`` is a keyword in Python; the environment spells it like the org file does.
    sender: str | None = Field(default=None, alias="from")


class NotifyOverrides(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: EmailOverrides = Field(default_factory=EmailOverrides)


class ServerOverrides(BaseModel):
    """Per-deployment overrides of ``[server]`` (``ONEONONE_SERVER__BIND``, ``__PUBLIC_URL``)."""

    model_config = ConfigDict(extra="ignore")

    bind: str | None = None
    public_url: str | None = None


class GoogleOverrides(BaseModel):
    """Per-deployment overrides of ``[google]`` (``ONEONONE_GOOGLE__SERVICE_ACCOUNT_FILE``, ...).

    Kept as text: the org file's loader checks them and resolves the paths.
    """

    model_config = ConfigDict(extra="ignore")

    service_account_file: str | None = None
    oauth_client_file: str | None = None
    token_file: str | None = None
    api_endpoint: str | None = None


class Settings(BaseSettings):
    """Settings from the environment; command-line options are passed as keyword arguments."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        # Other ONEONONE_* variables exist on purpose (the SMTP password named by
        # password_env, for one), so unknown ones are ignored rather than refused.
        extra="ignore",
        # An exported-but-empty variable means "not set", as it does in most shells' configs.
        env_ignore_empty=True,
    )

    config: Path = Path("config/oneonone.toml")
    now: datetime | None = None
    database_url: str | None = None
    notify: NotifyOverrides = Field(default_factory=NotifyOverrides)
    server: ServerOverrides = Field(default_factory=ServerOverrides)
    google: GoogleOverrides = Field(default_factory=GoogleOverrides)


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


def resolve_now(now: datetime | None, zone: ZoneInfo) -> datetime:
    """The clock as an aware datetime: ``now`` if given (naive means wall time in ``zone``),
    else the real time."""
    if now is None:
        return datetime.now(zone)
    if now.tzinfo is None or now.utcoffset() is None:
        return now.replace(tzinfo=zone)
    return now

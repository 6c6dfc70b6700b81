"""The settings the product runs with, as frozen values: the org, its people's calendars, the
schedule, escalation, e-mail, server, agenda and Google settings.

Pure: no I/O and no clock. ``scheduler.orgfile`` reads, validates and builds them from the org
file and the environment (and re-exports them); the core decides with them.

Exports: Org, CalendarConfig, Schedule, Escalation, EmailSettings, ServerSettings,
AgendaSettings, GoogleSettings, Microsoft365Settings, DEFAULT_TEMPLATE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.domain import CalendarSettings, Pair, Person
from scheduler.rules import OrgCalendar

__all__ = [
    "DEFAULT_TEMPLATE",
    "AgendaSettings",
    "CalendarConfig",
    "EmailSettings",
    "Escalation",
    "GoogleSettings",
    "Microsoft365Settings",
    "Org",
    "Schedule",
    "ServerSettings",
]

#: The packaged default agenda template (``config/agendas/default.md.j2`` is the same file).
DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "examples" / "agendas" / "default.md.j2"


@dataclass(frozen=True)
class GoogleSettings:
    """``[google]``: how oneonone signs in to Google Calendar and Drive.

    A service account key with domain-wide delegation reaches every person's calendar; without
    one, the token file written by ``oneonone auth google`` reaches its one organizer's. Paths
    are absolute once loaded.
    """

    #: a service account's JSON key; its ``token_uri`` is where tokens are asked for
    service_account_file: Path | None = None
    #: the OAuth client (Desktop app) JSON that ``oneonone auth google`` signs in with
    oauth_client_file: Path | None = None
    #: the single organizer's saved sign-in (``<data_dir>/google-token.json`` in a loaded org)
    token_file: Path = Path("data") / "google-token.json"
    #: another address for the Calendar and Drive APIs (an emulator, a proxy); None: Google's
    api_endpoint: str | None = None


@dataclass(frozen=True)
class Microsoft365Settings:
    """``[microsoft365]``: the app registration oneonone signs in to Microsoft Graph with.

    Client credentials (app-only): ``client_id`` of an app with the application permission
    ``Calendars.ReadWrite`` in tenant ``tenant_id``, and its secret, read only from the
    environment variable named ``client_secret_env`` (never from the file), or a certificate.
    """

    tenant_id: str = ""
    client_id: str = ""
    #: the NAME of the environment variable that holds the client secret
    client_secret_env: str = ""
    #: a PEM holding the app's private key and certificate (instead of a secret); absolute
    certificate_file: Path | None = None
    #: the authority URL with the tenant; "" means https://login.microsoftonline.com/<tenant_id>
    authority: str = ""
    #: the Graph base URL with its version; "" means https://graph.microsoft.com/v1.0
    graph_endpoint: str = ""
    #: a CA bundle (PEM) to trust for the authority's and Graph's certificates; absolute
    ca_file: Path | None = None

    @property
    def authority_url(self) -> str:
        return self.authority or f"https://login.microsoftonline.com/{self.tenant_id}"

    @property
    def graph_url(self) -> str:
        return (self.graph_endpoint or "https://graph.microsoft.com/v1.0").rstrip("/")


@dataclass(frozen=True)
class CalendarConfig:
    """Where one person's calendar lives (``calendar = {...}`` of a person)."""

    provider: str
    path: Path | None = None  # vdir, ics from a file: absolute, resolved like the org file's
    url: str | None = None
    username: str | None = None
    password_env: str | None = None
    #: caldav: a CA bundle to trust for the server's TLS certificate (absolute); None: the system's
    ca_file: Path | None = None
    #: ics: the folder that keeps the last good copy of each feed (``<data_dir>/cache/ics``);
    #: caldav: the folder that keeps each calendar's mirror between processes
    #: (``<data_dir>/cache/caldav``)
    cache_dir: Path | None = None
    #: google: the org's ``[google]`` settings (the same object as ``Org.google``)
    google: GoogleSettings | None = None
    #: microsoft365: the org's ``[microsoft365]`` settings (the same object as
    #: ``Org.microsoft365``)
    microsoft365: Microsoft365Settings | None = None


@dataclass(frozen=True)
class Schedule:
    horizon_weeks: int
    freeze_hours: int
    makeup: bool
    makeup_notice_hours: int
    poll_minutes: int
    agenda_lead_hours: int


@dataclass(frozen=True)
class Escalation:
    escalate_after: int
    window_misses: int
    window_weeks: int


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    starttls: bool
    username: str
    password_env: str
    sender: str  # the "from" key


@dataclass(frozen=True)
class ServerSettings:
    """``[server]``: where the daemon's feed, agenda, health and metrics server listens."""

    host: str = "127.0.0.1"
    port: int = 8321
    #: the address people reach the server at, without a trailing slash (``http://host:port``
    #: when the file leaves ``public_url`` empty)
    public_url: str = "http://127.0.0.1:8321"


@dataclass(frozen=True)
class AgendaSettings:
    """``[agenda]``: the template agendas are written from, and the pipeline data they show."""

    template: Path = DEFAULT_TEMPLATE
    pipeline_csv: Path | None = None
    metrics_csv: Path | None = None
    #: pair key -> that pair's own template (a rep's ``agenda_template``)
    pair_templates: dict[str, Path] = field(default_factory=dict)

    def template_for(self, pair_key: str) -> Path:
        """The template of ``pair_key``'s agendas: the pair's own, else the org's."""
        return self.pair_templates.get(pair_key, self.template)

    def templates(self) -> list[Path]:
        """Every template in use (the org's first), each once."""
        return list(dict.fromkeys([self.template, *self.pair_templates.values()]))


@dataclass(frozen=True)
class Org:
    """The validated org file: everything the product needs to know about the org."""

    path: Path
    base_dir: Path
    name: str
    timezone: str
    calendar: OrgCalendar
    people: dict[str, Person]  # by lowercase email, in file order
    pairs: list[Pair]  # one per person with a manager, in file order
    calendars: dict[str, CalendarConfig]  # by lowercase email
    schedule: Schedule
    escalation: Escalation
    email: EmailSettings
    slack_webhook_env: str
    data_dir: Path
    database_url: str
    title_template: str
    server: ServerSettings = ServerSettings()
    agenda: AgendaSettings = AgendaSettings()
    google: GoogleSettings = GoogleSettings()
    microsoft365: Microsoft365Settings = Microsoft365Settings()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_calendar_settings(self, found: Mapping[str, CalendarSettings]) -> Org:
        """The org with each person's calendar settings (by email) in place of the org's
        defaults (``Person.with_calendar_settings``), their pairs made of the same people."""
        people = {
            email: person.with_calendar_settings(found[email]) if email in found else person
            for email, person in self.people.items()
        }
        if all(people[email] is person for email, person in self.people.items()):
            return self
        pairs = [
            replace(pair, manager=people[pair.manager.email], rep=people[pair.rep.email])
            for pair in self.pairs
        ]
        return replace(self, people=people, pairs=pairs)

    def title(self, pair: Pair) -> str:
        """The event title of ``pair``: the template with the two first names filled in."""
        return self.title_template.format(manager=pair.manager.first_name, rep=pair.rep.first_name)

"""The ``oneonone`` command line (also ``python -m scheduler``).

Every command takes ``--config`` and ``--now``. Errors reach the user as plain sentences on
stderr with the spec's exit codes: 1 a problem to fix, 2 bad usage (argparse), 3 a safety stop.
No traceback escapes for anything the product raises on purpose.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from scheduler.domain import pair_emails
from scheduler.errors import OneononeError, SafetyStop, UserError
from scheduler.settings import Settings, load_settings, resolve_now

__all__ = ["main"]

log = logging.getLogger("scheduler")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="the org file (default config/oneonone.toml, env ONEONONE_CONFIG)",
    )
    common.add_argument(
        "--now",
        default=argparse.SUPPRESS,
        help="the clock for everything, ISO 8601 (env ONEONONE_NOW); for simulation and tests",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")

    parser = argparse.ArgumentParser(
        prog="oneonone",
        description="Keeps every manager–rep weekly 1:1 on the calendar, around month-end close.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"oneonone {_version()}")
    commands = _Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    commands.add_parser("init", parents=[common], help="write the example org file")
    commands.add_parser("check", parents=[common], help="validate the org file, reach calendars")
    plan = commands.add_parser(
        "plan", parents=[common], help="what a pass would do; changes nothing"
    )
    plan.add_argument(
        "--weeks", type=_positive, default=None, help="weeks to plan (default horizon_weeks)"
    )
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    sync = commands.add_parser("sync", parents=[common], help="one full pass")
    sync.add_argument("--json", action="store_true", help="machine-readable output")
    sync.add_argument("--force", action="store_true", help="override a safety stop, once")
    commands.add_parser(
        "run",
        parents=[common],
        help="the daemon: passes on a schedule; serves feeds, agendas and dashboards",
    )
    report = commands.add_parser(
        "report",
        parents=[common],
        help="the ledger: a summary of each pair, then its weeks, and the notices sent",
    )
    report.add_argument("--weeks", type=_positive, default=12, help="weeks of history (default 12)")
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.add_argument(
        "--no-color", action="store_true", help="no colour, even on a terminal (also NO_COLOR)"
    )
    feeds = commands.add_parser("feeds", parents=[common], help="people's ICS feed addresses")
    feed_commands = _Commands(
        feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    )
    for action, text in (
        ("url", "a person's feed address (issued the first time; shown once)"),
        ("rotate", "a new feed address for a person; the old one stops working"),
    ):
        feed_command = feed_commands.add_parser(action, parents=[common], help=text)
        feed_command.add_argument("email", help="the person's e-mail address")
    dashboard = commands.add_parser(
        "dashboard", parents=[common], help="leaders' adherence dashboard addresses"
    )
    dashboard_commands = _Commands(
        dashboard.add_subparsers(dest="dashboard_command", required=True, metavar="ACTION")
    )
    for action, text in (
        (
            "url",
            "the address of a person's dashboard (their pairs and everyone below them) or the "
            "whole org's (--all); issued the first time, shown once",
        ),
        ("rotate", "a new dashboard address; the old one stops working"),
    ):
        dashboard_command = dashboard_commands.add_parser(action, parents=[common], help=text)
        whose = dashboard_command.add_mutually_exclusive_group(required=True)
        whose.add_argument("email", nargs="?", help="a manager's or skip-level's e-mail address")
        whose.add_argument("--all", action="store_true", help="the whole org's dashboard")
    auth = commands.add_parser("auth", parents=[common], help="sign in to a calendar service")
    auth_commands = _Commands(
        auth.add_subparsers(dest="auth_command", required=True, metavar="SERVICE")
    )
    google = auth_commands.add_parser(
        "google",
        parents=[common],
        help="sign a single organizer in to Google Calendar (writes [google] token_file)",
    )
    google.add_argument(
        "--email",
        help="the organizer who signs in (default: the only person on Google Calendar)",
    )
    google.add_argument(
        "--no-browser",
        action="store_true",
        help="print the sign-in address instead of opening a browser",
    )
    google.add_argument(
        "--port",
        type=_port,
        default=0,
        help="the local port Google's answer comes back to (default: any free port)",
    )
    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="a simulated quarter for a small org, printed week by week as it happens",
    )
    demo.add_argument(
        "--dir", type=Path, default=Path("oneonone-demo"), help="folder for the demo's data"
    )
    demo.add_argument("--weeks", type=_positive, default=13, help="weeks to simulate (default 13)")
    return parser


class _Commands:
    """Subcommands whose ``--help`` opens with the same one line the command list shows."""

    def __init__(self, actions: Any) -> None:
        self.actions = actions

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("description", kwargs.get("help"))
        parser: argparse.ArgumentParser = self.actions.add_parser(name, **kwargs)
        return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oneonone")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be from 0 (any free port) to 65535")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    # SIGPIPE stays ignored (Python's default), never SIG_DFL: with SIG_DFL any socket a
    # peer hangs up on kills the process (the daemon, when an HTTP client left; a test
    # process calling main). Output piped into `head` ends quietly below instead, as the
    # Python documentation's note on SIGPIPE does it.
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(_COMMANDS[args.command](args))
    except SafetyStop as stop:
        for reason in stop.reasons:
            print(f"oneonone: safety stop: {reason}", file=sys.stderr)
        return stop.exit_code
    except UserError as error:
        for problem in error.problems:
            print(f"oneonone: {_printable(problem)}", file=sys.stderr)
        return error.exit_code
    except OneononeError as error:
        print(f"oneonone: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        return 1


def _stdout_gone() -> bool:
    """Whether standard output's reader went away (``oneonone report | head``); if so it
    is pointed at /dev/null, so that the interpreter's last flush says nothing either."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        gone = any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False
    if gone:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return gone


# --------------------------------------------------------------------------- context


def _settings(args: argparse.Namespace) -> Settings:
    """Environment settings with the command line's ``--config``/``--now`` winning."""
    return load_settings(config=getattr(args, "config", None), now=getattr(args, "now", None))


def _load(args: argparse.Namespace) -> tuple[Any, datetime]:
    from scheduler.orgfile import load_org

    settings = _settings(args)
    org = load_org(settings.config)
    return org, resolve_now(settings.now, org.zone)


def _ledger(org: Any) -> Any:
    from scheduler.store.ledger import Ledger

    return Ledger(org.database_url)


# --------------------------------------------------------------------------- commands


def cmd_init(args: argparse.Namespace) -> int:
    target = _settings(args).config
    if target.exists():
        raise UserError(f"{target} already exists; oneonone init never overwrites a file")
    example = resources.files("scheduler").joinpath("examples/oneonone.toml").read_text("utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as handle:
            handle.write(example)
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror}") from error
    print(f"wrote {target}: edit the people, then run `oneonone check --config {target}`")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from scheduler.orgfile import problems_in_calendars
    from scheduler.providers import microsoft365
    from scheduler.sync import google_session, make_provider

    org, now = _load(args)
    problems = list(problems_in_calendars(org))
    google = None
    if not problems:
        google = google_session(org, None, now, persist=False)
        org = microsoft365.with_mailbox_settings(org, None, now, persist=False)
        for email, person in org.people.items():
            try:
                problems.extend(make_provider(org.calendars[email], person, google).check(person))
            except OneononeError as error:
                problems.append(str(error))
    try:
        _ledger(org).close()
    except UserError as error:
        problems.extend(error.problems)
    problems.extend(_server_problems(org))
    if not problems:
        problems.extend(_read_problems(org, now, google))
    problems.extend(_notice_problems(org))
    problems.extend(_agenda_problems(org))
    if problems:
        raise UserError(problems)
    print(
        f"{org.path}: ok: {len(org.people)} people, {len(org.pairs)} weekly 1:1 pairs, "
        f"every calendar reachable"
    )
    from scheduler.orgfile import hours_source

    for person in org.people.values():
        said = hours_source(person, "Microsoft 365 mailbox settings")
        if said is not None:
            print(said)
    return 0


def _notice_problems(org: Any) -> list[str]:
    """Mail and Slack settings that would keep notices from going out (secrets missing), and
    an SMTP server that does not answer as a send needs."""
    import os

    from scheduler.notify import SmtpMailer, mailer_for, slack_for

    problems: list[str] = []
    for make in (mailer_for, slack_for):
        try:
            made = make(org, os.environ)
        except UserError as error:
            problems.extend(error.problems)
            continue
        if isinstance(made, SmtpMailer):
            made.timeout = min(made.timeout, 10.0)
            problems.extend(made.check())
    return problems


_WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}


def _server_problems(org: Any) -> list[str]:
    """A wildcard bind with no ``public_url``: every feed and agenda link would name
    ``http://0.0.0.0:8321``, which no one can open."""
    server = org.server
    if server.host.strip("[]") in {h.strip("[]") for h in _WILDCARD_HOSTS} and (
        server.public_url.rstrip("/") == f"http://{server.host}:{server.port}"
        or "//0.0.0.0" in server.public_url
        or "//[::]" in server.public_url
    ):
        return [
            f"[server] bind is {server.host}:{server.port} (every interface) and public_url is "
            f"not set, so feed and agenda links would read {server.public_url}/..., which no one "
            "can open; set [server] public_url (or ONEONONE_SERVER__PUBLIC_URL) to the address "
            "people reach the server at, e.g. https://oneonone.acme.example."
        ]
    return []


def _read_problems(org: Any, now: Any, google: Any) -> list[str]:
    """Every calendar read the way a pass reads it (the horizon's weeks), with the problems a
    pass would report: a corrupt .ics is named here, not first by ``sync``."""
    from datetime import timedelta

    from scheduler.sync import make_provider

    start = now
    end = now + timedelta(weeks=org.schedule.horizon_weeks + 1)
    problems: list[str] = []
    for email, person in org.people.items():
        try:
            read = make_provider(org.calendars[email], person, google).read(person, start, end)
        except OneononeError as error:
            problems.append(str(error))
            continue
        problems.extend(read.problems)
    return problems


def _printable(text: str) -> str:
    """``text`` fit for a terminal: control characters and undecodable bytes of a corrupt
    file shown as ``?``, never sent raw (they can garble or drive the terminal)."""
    return "".join(ch if ch.isprintable() or ch == " " else "?" for ch in text)


def _agenda_problems(org: Any) -> list[str]:
    """The agenda template (file and line) and pipeline CSV rows that cannot be used."""
    from scheduler.agenda import read_deals, read_metrics
    from scheduler.agenda.template import check_template

    problems = [problem for path in org.agenda.templates() for problem in check_template(path)]
    if org.agenda.pipeline_csv is not None:
        problems.extend(read_deals(org.agenda.pipeline_csv)[1])
    if org.agenda.metrics_csv is not None:
        problems.extend(read_metrics(org.agenda.metrics_csv)[1])
    return problems


def cmd_plan(args: argparse.Namespace) -> int:
    from scheduler.sync import run_pass

    org, now = _load(args)
    ledger = _ledger(org)
    try:
        result = run_pass(org, ledger, now, apply=False, horizon_weeks=args.weeks)
    finally:
        ledger.close()
    if args.json:
        print(json.dumps(_plan_json(result), indent=2))
    else:
        _print_plan(org, result)
    for problem in result.problems:
        print(f"oneonone: {_printable(problem)}", file=sys.stderr)
    if result.safety:
        # The same stop a sync would make: said, and exit 3, so a dry run hides nothing.
        raise SafetyStop(result.safety)
    return 1 if result.problems else 0


def cmd_sync(args: argparse.Namespace) -> int:
    from scheduler.replica import exclusive_pass

    org, now = _load(args)
    ledger = _ledger(org)
    try:
        # The data folder's lock (SQLite), or the pass lease among replicas (PostgreSQL).
        result = exclusive_pass(org, ledger, now, force=args.force)
    finally:
        ledger.close()
    if args.json:
        payload = _plan_json(result)
        payload.update(
            {
                "now": now.isoformat(),
                "written": result.written,
                "observed_changes": result.observed_changes,
                "notices_decided": result.notices_decided,
                "notices_sent": result.notices_sent,
                "agendas_written": result.agendas_written,
                "agendas_read": result.agendas_read,
                "problems": result.problems,
                "conflicts": result.conflicts,
                "safety_stops": result.safety,
            }
        )
        print(json.dumps(payload, indent=2))
    else:
        print(
            f"{now:%Y-%m-%d %H:%M %Z}: {len(result.planned)} occurrences planned, "
            f"{len(result.changes)} calendar writes needed, {result.written} objects written, "
            f"{result.observed_changes} changes by people recorded, "
            f"{result.agendas_written} agendas written, {result.agendas_read} read back, "
            f"{result.notices_sent} notices sent"
        )
    for conflict in result.conflicts:
        print(f"oneonone: left as people left it: {conflict}", file=sys.stderr)
    for problem in result.problems:
        print(f"oneonone: {_printable(problem)}", file=sys.stderr)
    if result.safety:
        raise SafetyStop(result.safety)
    return 1 if result.problems else 0


def cmd_report(args: argparse.Namespace) -> int:
    from scheduler.report import build_report, format_report, print_summary

    org, now = _load(args)
    ledger = _ledger(org)
    try:
        report = build_report(org, ledger, now, args.weeks)
    finally:
        ledger.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    names = {email: person.name for email, person in org.people.items() if person.name}
    print_summary(report, sys.stdout, names=names, color=False if args.no_color else None)
    print("\n" + format_report(report), flush=True)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from scheduler.daemon import run_daemon

    org, _ = _load(args)
    settings = _settings(args)
    start = resolve_now(settings.now, org.zone) if settings.now is not None else None
    return run_daemon(settings.config, org, start=start)


def cmd_feeds(args: argparse.Namespace) -> int:
    """``feeds url EMAIL`` / ``feeds rotate EMAIL``.

    The ledger keeps only a hash of each token, so an address can be shown only when it is
    issued: ``url`` issues one the first time and afterwards says how to get a new one.
    """
    from scheduler.feeds import feed_url, issue_token

    org, now = _load(args)
    email = args.email.strip().lower()
    if email not in org.people:
        raise UserError(
            f"{args.email} is not a person in {org.path}; use the email of a [[person]] there"
        )
    ledger = _ledger(org)
    try:
        existing = ledger.feed_token(email)
        if args.feeds_command == "url" and existing is not None:
            _, created, rotated = existing
            issued = rotated or created
            raise UserError(
                f"the feed address of {email} was issued on {issued:%Y-%m-%d} and only a hash "
                "of it is kept, so it cannot be shown again; run `oneonone feeds rotate "
                f"{email}` for a new one (the old one then stops working)"
            )
        token = issue_token(ledger, email, now)
    finally:
        ledger.close()
    print(feed_url(org, token))
    if existing is not None:
        print(f"oneonone: the previous feed address of {email} no longer works", file=sys.stderr)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``dashboard url EMAIL|--all`` / ``dashboard rotate EMAIL|--all`` (tokens as for feeds:
    only a hash is kept, so ``url`` shows an address once)."""
    from scheduler.dashboard import ALL
    from scheduler.dashboard_io import dashboard_url, issue_dashboard_token, revoke_digest_links

    org, now = _load(args)
    if args.all:
        scope, whose = ALL, "the whole org"
        again = "--all"
    else:
        scope = args.email.strip().lower()
        whose = scope
        again = scope
        if scope not in org.people:
            raise UserError(
                f"{args.email} is not a person in {org.path}; use the email of a [[person]] "
                "there, or --all for the whole org"
            )
        if not any(pair.manager.email == scope for pair in org.pairs):
            raise UserError(
                f"{scope} manages nobody in {org.path}, so their dashboard would be empty; give "
                "a manager's or skip-level's email, or --all for the whole org"
            )
    ledger = _ledger(org)
    try:
        existing = ledger.dashboard_token(scope)
        if args.dashboard_command == "url" and existing is not None:
            _, created, rotated = existing
            issued = rotated or created
            raise UserError(
                f"the dashboard address of {whose} was issued on {issued:%Y-%m-%d} and only a "
                "hash of it is kept, so it cannot be shown again; run `oneonone dashboard "
                f"rotate {again}` for a new one (the old one then stops working)"
            )
        token = issue_dashboard_token(ledger, scope, now)
        revoked = 0
        if args.dashboard_command == "rotate" and scope != ALL:
            revoked = revoke_digest_links(ledger, scope)
    finally:
        ledger.close()
    print(dashboard_url(org, token))
    if revoked:
        print(
            f"oneonone: the dashboard links in {revoked} digests sent to {whose} no longer work",
            file=sys.stderr,
        )
    if existing is not None:
        print(
            f"oneonone: the previous dashboard address of {whose} no longer works", file=sys.stderr
        )
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    """``auth google``: the single organizer's installed-app sign-in, saved to token_file."""
    from scheduler.providers.google.auth import run_installed_app_flow

    org, _ = _load(args)
    settings = org.google
    if settings.oauth_client_file is None:
        raise UserError(
            f"{org.path}: google.oauth_client_file: not set; create an OAuth client ID of type "
            "Desktop app in Google Cloud console › APIs & Services › Credentials, download its "
            "JSON and set oauth_client_file to its path (or ONEONONE_GOOGLE__OAUTH_CLIENT_FILE)"
        )
    email = _organizer(org, args.email)
    if settings.service_account_file is not None:
        print(
            "oneonone: note: [google] service_account_file is set, so the service account is "
            "used and this sign-in is kept for when it is removed",
            file=sys.stderr,
        )

    def tell(url: str) -> None:
        opened = "" if args.no_browser else " (a browser should open it now)"
        print(f"Sign in to Google as {email} at this address{opened}:\n\n    {url}\n", flush=True)

    run_installed_app_flow(
        settings.oauth_client_file,
        settings.token_file,
        email=email,
        open_browser=not args.no_browser,
        port=args.port,
        on_url=tell,
    )
    print(
        f"saved the Google sign-in of {email} to {settings.token_file}; run "
        f"`oneonone check --config {org.path}` to reach the calendars"
    )
    return 0


def _organizer(org: Any, given: str | None) -> str:
    """The person the sign-in is for: ``--email``, or the only one on Google Calendar (the
    only manager there when several people are)."""
    on_google = [e for e, config in org.calendars.items() if config.provider == "google"]
    if given is not None:
        email = given.strip().lower()
        if email not in org.people:
            raise UserError(
                f"{given} is not a person in {org.path}; pass the --email of a [[person]] there"
            )
        if email not in on_google:
            raise UserError(
                f'{email} has calendar provider = "{org.calendars[email].provider}", not '
                f'"google"; set their calendar = {{ provider = "google" }} in {org.path} first'
            )
        return email
    managers = {pair.manager.email for pair in org.pairs}
    candidates = on_google if len(on_google) <= 1 else [e for e in on_google if e in managers]
    if len(candidates) == 1:
        return str(candidates[0])
    if not on_google:
        raise UserError(
            f'nobody in {org.path} has calendar = {{ provider = "google" }}; set it for the '
            "organizer, then run `oneonone auth google --email ORGANIZER`"
        )
    listed = ", ".join((candidates or on_google)[:5])
    raise UserError(
        f"pass --email with the organizer who signs in (people on Google Calendar: {listed})"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from scheduler.demo import run_demo

    return run_demo(args.dir, weeks=args.weeks, start=_settings(args).now)


_COMMANDS = {
    "init": cmd_init,
    "check": cmd_check,
    "plan": cmd_plan,
    "sync": cmd_sync,
    "report": cmd_report,
    "run": cmd_run,
    "feeds": cmd_feeds,
    "dashboard": cmd_dashboard,
    "auth": cmd_auth,
    "demo": cmd_demo,
}


# --------------------------------------------------------------------------- output


def _plan_json(result: Any) -> dict[str, Any]:
    return {
        "occurrences": [
            {
                "manager": item.manager,
                "rep": item.rep,
                "week": item.week,
                "start": item.start.isoformat(),
                "end": item.end.isoformat(),
                "status": item.status.value,
                "reason": item.reason,
            }
            for item in result.planned
        ],
        "changes": [change.as_json() for change in result.changes],
        "agendas": [
            {"manager": manager, "rep": rep, "week": week, "date": day}
            for key, week, day in result.agendas_planned
            for manager, rep in [pair_emails(key)]
        ],
        "notices": [
            {
                "kind": decision.kind,
                "manager": manager,
                "rep": rep or None,
                "week": decision.week,
                "to": list(decision.to),
            }
            for decision in _new_notices(result)
            for manager, rep in [pair_emails(decision.pair_key)]
        ],
        "safety_stop": "; ".join(result.safety) if result.safety else None,
    }


def _new_notices(result: Any) -> list[Any]:
    """The notices a pass would record (and send) that no pass recorded before."""
    return [notice.decision for notice in result.plan.notices] if result.plan else []


def _print_plan(org: Any, result: Any) -> None:
    current = None
    for item in result.planned:
        if item.pair_key != current:
            current = item.pair_key
            manager = org.people[item.manager]
            rep = org.people[item.rep]
            print(f"\n{manager.name} / {rep.name}  ({manager.timezone})")
        local = item.start.astimezone(org.people[item.manager].zone)
        reason = f"  {item.reason}" if item.reason else ""
        # The zone's abbreviation on every time: a pair can cross a DST change in the plan.
        line = f"  {item.week}  {local:%a %d %b %H:%M %Z}  {item.status.value:<14}{reason}"
        print(line.rstrip())
    if result.safety:
        print("\nA pass would stop here and write nothing:")
        for reason in result.safety:
            print(f"  {reason}")
    elif result.changes:
        print(f"\n{len(result.changes)} calendar writes a pass would make:")
        for change in result.changes:
            pair = _pair_name(org, change.manager, change.rep)
            print(
                f"  {change.action:<14} {pair}, {change.copy} copy on {change.calendar}: "
                f"{change.reason}"
            )
    else:
        print("\nNo calendar changes needed.")
    if result.safety:
        return
    if result.agendas_planned:
        print(f"\n{len(result.agendas_planned)} agenda documents a pass would write:")
        for key, week, day in result.agendas_planned:
            print(f"  {_pair_name(org, *pair_emails(key))}, {week} ({day})")
    notices = _new_notices(result)
    if notices:
        print(f"\n{len(notices)} notices a pass would send:")
        for decision in notices:
            manager, rep = pair_emails(decision.pair_key)
            # A digest is about all of a manager's pairs (its key names no rep).
            about = _pair_name(org, manager, rep) if rep else _person_name(org, manager)
            print(f"  {decision.kind:<17} {about}, {decision.week}, to {', '.join(decision.to)}")


def _pair_name(org: Any, manager: str, rep: str) -> str:
    """``Marco Rossi / Ana Alvarez`` (the e-mail of anyone the org file does not name)."""
    return f"{_person_name(org, manager)} / {_person_name(org, rep)}"


def _person_name(org: Any, email: str) -> str:
    person = org.people.get(email)
    return person.name if person is not None and person.name else email


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

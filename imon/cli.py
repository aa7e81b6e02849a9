"""The ``imon`` command line: demo-data, build, refresh, publish, rollback, snapshots,
audit, users, serve, values, export, report.

The only module that uses both packages: ``etl`` (raw files -> published snapshot) and
``dashboards`` (reading, serving and exporting the snapshot). A subcommand is one parser
entry in :func:`_parser` (``set_defaults(run=...)``) and one small ``_<command>`` function
that imports what it needs when it runs, so ``imon --help`` loads neither package and
importing this module reads no file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from etl.errors import ImonError
from etl.profile import load_profile

console = Console(stderr=True)


class RichReporter:
    """Progress bars and messages on stderr (stdout stays clean for data); the hooks of
    :class:`etl.build.Reporter`."""

    def info(self, message: str) -> None:
        console.print(message)

    def track(self, items: Iterable, description: str, total: int) -> Iterator:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as progress:
            yield from progress.track(items, total=total, description=description)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except ImonError as exc:
        console.print(f"[bold red]Fehler:[/bold red] {exc}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        console.print("[red]abgebrochen[/red]")
        return 130
    except BrokenPipeError:  # e.g. `imon values … | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except OSError as exc:  # disk full, permissions, …: nothing published has changed
        console.print(
            f"[bold red]Ein-/Ausgabefehler:[/bold red] {exc}", highlight=False, soft_wrap=True
        )
        return 1
    except Exception as exc:  # DuckDB's storage errors outside a build are not OSError
        if not _storage_error(exc):
            raise
        text = " ".join(str(exc).split())
        console.print(
            f"[bold red]Ein-/Ausgabefehler:[/bold red] DuckDB {type(exc).__name__} in "
            f"'imon {args.command}': {text}",
            highlight=False,
            soft_wrap=True,
        )
        return 1


def _storage_error(exc: Exception) -> bool:
    """DuckDB's IO, fatal, transaction or out-of-memory error (duckdb is not imported
    here: it is loaded only by a command that uses it)."""
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(
        exc,
        (
            duckdb.IOException,
            duckdb.FatalException,
            duckdb.TransactionException,
            duckdb.OutOfMemoryException,
        ),
    )


ACCEPT_HELP = (
    "publish although the build has warnings (consistency checks set to warn; listed in "
    "the plausibility report); the acceptance is recorded"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imon", description="Integrationsmonitor")
    sub = parser.add_subparsers(dest="command", required=True)
    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="instance profile (YAML); default: the demo city Musterstadt",
    )

    demo = sub.add_parser("demo-data", parents=[profile], help="write the demo city's raw files")
    demo.add_argument("--persons", type=int, default=110_000)
    demo.add_argument("--first-year", type=int, default=2010)
    demo.add_argument("--last-year", type=int, default=2024)
    demo.add_argument("--seed", type=int, default=20241231)
    demo.add_argument("--force", action="store_true", help="overwrite existing demo files")
    demo.set_defaults(run=_demo_data)

    build = sub.add_parser("build", parents=[profile], help="raw files -> published warehouse")
    build.add_argument("--accept-warnings", action="store_true", help=ACCEPT_HELP)
    build.set_defaults(run=_build)

    refresh = sub.add_parser(
        "refresh",
        parents=[profile],
        help="take in new deliveries -> staged snapshot + review report",
    )
    refresh.add_argument("files", nargs="+", type=Path, metavar="FILE")
    refresh.add_argument(
        "--publish", action="store_true", help="publish the staged snapshot right away"
    )
    refresh.add_argument("--accept-warnings", action="store_true", help=ACCEPT_HELP)
    refresh.set_defaults(run=_refresh)
    publish = sub.add_parser("publish", parents=[profile], help="publish the staged snapshot")
    publish.add_argument("--accept-warnings", action="store_true", help=ACCEPT_HELP)
    publish.set_defaults(run=_publish)
    sub.add_parser(
        "rollback", parents=[profile], help="serve the previous snapshot again"
    ).set_defaults(run=_rollback)
    sub.add_parser(
        "snapshots", parents=[profile], help="list snapshots with their sources"
    ).set_defaults(run=_snapshots)

    init = sub.add_parser("init", help="draft a profile from an office's own files")
    init.add_argument("--out", type=Path, required=True, help="the draft profile to write")
    init.add_argument(
        "--geometry", type=Path, action="append", default=[], help="boundary file (repeatable)"
    )
    init.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="tables: CSV, XLSX, JSON or GENESIS exports",
    )
    init.set_defaults(run=_init)

    _users_parser(sub, profile)
    _goals_parser(sub, profile)

    serve = sub.add_parser("serve", help="serve the dashboard")
    serve.add_argument(
        "--profile",
        type=Path,
        action="append",
        default=None,
        help="instance profile (YAML), repeatable: several instances in one "
        "dashboard (?instance=<name>); default: the demo city",
    )
    serve.add_argument("--port", type=int, default=8050, help="0: any free port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=2,
        help="gunicorn worker processes (default 2, for 2 cores)",
    )
    serve.add_argument(
        "--threads", type=_positive, default=4, help="threads per worker (default 4)"
    )
    serve.add_argument(
        "--proxy",
        type=int,
        nargs="?",
        const=1,
        choices=range(6),
        metavar="HOPS",
        help="behind HOPS reverse proxies (default 1): trust their X-Forwarded-For/Proto/"
        "Host/Port/Prefix; overrides server.proxy_hops of the profile",
    )
    serve.add_argument(
        "--dev",
        action="store_true",
        help="Werkzeug's development server (one process) instead of gunicorn",
    )
    serve.add_argument(
        "--internal",
        action="store_true",
        help="internal server for the statistics office: every page needs a login (whatever "
        "the profiles say) and the office role sees unprotected values, marked internal",
    )
    serve.set_defaults(run=_serve)

    audit = sub.add_parser(
        "audit",
        parents=[profile],
        help="attack the published snapshot: feasible interval of every protected cell",
    )
    audit.add_argument("--staged", action="store_true", help="the staged snapshot instead")
    audit.add_argument("--lang", choices=("de", "en"), default="de")
    audit.set_defaults(run=_audit)

    values = sub.add_parser("values", parents=[profile], help="indicator values as CSV")
    values.add_argument("--indicator", required=True)
    values.add_argument("--level")
    values.add_argument("--date", type=_iso_date, dest="ref_date")
    values.add_argument("--area")
    values.add_argument(
        "--boundaries",
        metavar="VINTAGE",
        help="on the units of this boundary vintage (id or year, e.g. 2021): earlier dates "
        "recomputed, flagged exakt/geschätzt",
    )
    values.set_defaults(run=_values)

    export = sub.add_parser(
        "export", parents=[profile], help="print-ready charts (png/svg/pdf) and tables (csv/xlsx)"
    )
    export.add_argument(
        "--indicator", nargs="+", action="extend", required=True, dest="indicators", metavar="ID"
    )
    export.add_argument("--area", help="area of the time series (default: the city)")
    export.add_argument("--date", type=_iso_date, dest="ref_date", help="date of the maps")
    export.add_argument("--level", help="level of the maps (default: finest with boundaries)")
    export.add_argument(
        "--format",
        action="append",
        required=True,
        dest="formats",
        help="png, svg, pdf, csv, xlsx (repeat or comma-separate)",
    )
    export.add_argument("--out", type=Path, required=True, help="folder for the files")
    export.add_argument("--lang", choices=["de", "en"], default="de")
    export.add_argument(
        "--classes",
        type=str.lower,
        default="quantile",
        help="classes of the maps: quantile, equal (intervals) or jenks "
        "(natural breaks); default quantile",
    )
    export.add_argument(
        "--definition",
        action="store_true",
        help="add each indicator's definition to the chart notes",
    )
    export.set_defaults(run=_export)

    report = sub.add_parser(
        "report", parents=[profile], help="the commission's yearly report (PDF or DOCX)"
    )
    report.add_argument("--date", type=_iso_date, dest="ref_date", help="Stand (default: latest)")
    report.add_argument("--lang", choices=["de", "en"], default="de")
    report.add_argument(
        "--internal",
        action="store_true",
        help="statistics office only: unprotected values, every page marked internal",
    )
    report.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.docx")
    report.set_defaults(run=_report)
    return parser


def _goals_parser(sub: argparse._SubParsersAction, profile: argparse.ArgumentParser) -> None:
    goals = sub.add_parser("goals", help="integration goals (goals.yaml, project workbook)")
    goals_sub = goals.add_subparsers(dest="goals_command", required=True)
    template = goals_sub.add_parser(
        "template",
        parents=[profile],
        help="the project-indicator workbook (XLSX) for the integration office",
    )
    template.add_argument("--out", type=Path, required=True, metavar="FILE.xlsx")
    template.add_argument(
        "--until", type=int, default=None, help="prefill rows up to this year (default: this year)"
    )
    template.add_argument(
        "--password-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="protect the header with the password in the file's first line "
        "(default: the environment variable IMON_WORKBOOK_PASSWORD; else no password)",
    )
    template.set_defaults(run=_goals_template)


def _goals_template(args: argparse.Namespace) -> int:
    from etl.goals import load
    from etl.goals.workbook import template_password, write_template

    profile = load_profile(args.profile)
    goals = load(profile)
    if not goals.project_indicators():
        raise ImonError(f"{profile.path}: no project indicators (profile key 'goals:')")
    if args.out.suffix.lower() != ".xlsx":
        raise ImonError(f"{args.out}: the workbook's name must end in .xlsx")
    password = template_password(args.password_file, dict(os.environ))
    write_template(goals, args.out, profile.title, args.until, password)
    console.print(
        f"[green]Vorlage:[/green] {args.out} — ausfüllen lassen, dann imon refresh "
        f"--profile {profile.path} DATEI",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def _users_parser(sub: argparse._SubParsersAction, profile: argparse.ArgumentParser) -> None:
    users = sub.add_parser("users", help="users of the dashboard (login, roles)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser(
        "add", parents=[profile], help="add a user (password: prompt or IMON_PASSWORD)"
    )
    add.add_argument("--role", required=True, help="commission or office")
    add.add_argument("name")
    add.set_defaults(run=_users_add)
    users_sub.add_parser("list", parents=[profile], help="list the users").set_defaults(
        run=_users_list
    )
    remove = users_sub.add_parser("remove", parents=[profile], help="remove a user")
    remove.add_argument("name")
    remove.set_defaults(run=_users_remove)
    passwd = users_sub.add_parser("passwd", parents=[profile], help="set a new password")
    passwd.add_argument("name")
    passwd.set_defaults(run=_users_passwd)
    log = users_sub.add_parser(
        "log", parents=[profile], help="the access log (logins, publishes, internal exports)"
    )
    log.add_argument("--since", type=_iso_date, help="entries from this day on (YYYY-MM-DD)")
    log.add_argument("--action", help="only this action, e.g. login_failed or publish")
    log.set_defaults(run=_users_log)


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return number


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from exc


def _init(args: argparse.Namespace) -> int:
    """A draft profile from delivered files (etl/onboarding), with its decisions and
    open questions on stderr."""
    from etl.onboarding.draft import init

    if args.out.exists():
        raise ImonError(f"{args.out}: exists already; choose another --out or remove it")
    draft = init(args.out, args.files, args.geometry)
    console.print("[bold]Entscheidungen:[/bold]")
    for note in draft.notes:
        console.print(f"  {note}", highlight=False, markup=False, soft_wrap=True)
    if draft.questions:
        console.print("[bold yellow]Offene Fragen (auch oben im Entwurf):[/bold yellow]")
    for question in draft.questions:
        console.print(f"  {question}", highlight=False, markup=False, soft_wrap=True)
    console.print(
        f"[green]Entwurf:[/green] {args.out} — prüfen, dann imon build --profile {args.out}",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def _demo_data(args: argparse.Namespace) -> int:
    from etl.demo import write_demo  # imported late: numpy-heavy, only needed here

    profile = load_profile(args.profile)
    if profile.goals is not None:  # the filled project workbook (#15), fictional values
        from etl.demo.projects import write_project_workbook

        for path in write_project_workbook(profile, force=args.force):
            console.print(f"Projektindikatoren (Demo): {path}", highlight=False)
    if any(profile.raw_dir.glob("*/*/*")) and not args.force:
        console.print(
            f"Demo-Rohdaten liegen bereits in {profile.raw_dir} (--force erzeugt sie neu)."
        )
        return 0
    paths = write_demo(
        profile.raw_dir,
        persons=args.persons,
        first_year=args.first_year,
        last_year=args.last_year,
        seed=args.seed,
        progress=console.print,
    )
    console.print(f"{len(paths)} Dateien nach {profile.raw_dir} geschrieben.")
    return 0


def _build(args: argparse.Namespace) -> int:
    from etl.build import build
    from etl.deliveries import publish

    profile = load_profile(args.profile)
    # built and staged, then published as imon publish does: findings of checks set to
    # warn keep it staged unless accepted (an acceptance is recorded)
    result = build(profile, RichReporter(), publish=False)
    publish(profile, accept_warnings=args.accept_warnings)
    _log_action(profile, "publish", snapshot=result.snapshot.name, command="build")
    persons = f"{_de(result.persons)} Personen, " if profile.register_source else ""
    console.print(
        f"[green]Veröffentlicht:[/green] {result.snapshot.name} — {persons}"
        f"{len(result.ref_dates)} Stichtage, {_de(result.values)} Indikatorwerte"
        + (f", {len(result.skipped)} Indikatoren ohne Daten" if result.skipped else ""),
        soft_wrap=True,
    )
    return 0


DELIVERY_STATUS = {
    "new": "neu",
    "unchanged": "unverändert, nicht erneut kopiert",
    "revision": "Revision, die bisherige Datei bleibt unter .revisions/",
}
SNAPSHOT_STATE = {
    "current": "veröffentlicht",
    "staged": "vorgemerkt",
    "previous": "vorheriger (imon rollback)",
    "kept": "aufbewahrt",
}


def _refresh(args: argparse.Namespace) -> int:
    from etl.deliveries import refresh
    from etl.plausibility import summary

    profile = load_profile(args.profile)
    result = refresh(
        profile,
        args.files,
        RichReporter(),
        publish=args.publish,
        accept_warnings=args.accept_warnings,
    )
    for d in result.deliveries:
        console.print(
            f"{d.file.name} → {d.source.id}, Stichtag "
            f"{', '.join(x.isoformat() for x in d.ref_dates)}: "
            f"{DELIVERY_STATUS[d.status]} ({d.target})",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    for line in summary(result.report) if result.report else []:
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    if result.report_path:
        console.print(f"Prüfbericht: {result.report_path}", highlight=False, soft_wrap=True)
    if result.snapshot is None:
        console.print("Nichts Neues: diese Dateien sind bereits veröffentlicht.")
    elif result.published:
        accepted = {"accepted_warnings": str(len(result.accepted))} if result.accepted else {}
        _log_action(
            profile, "publish", snapshot=result.snapshot.name, command="refresh", **accepted
        )
        console.print(f"[green]Veröffentlicht:[/green] {result.snapshot.name}")
    elif result.refused:
        console.print(
            f"[bold red]Fehler:[/bold red] {escape(result.refused)} "
            f"(vorgemerkt: {result.snapshot.name})",
            highlight=False,
            soft_wrap=True,
        )
        return 2
    else:
        again = f" --profile {args.profile}" if args.profile else ""
        console.print(
            f"[yellow]Vorgemerkt, nicht veröffentlicht:[/yellow] "
            f"{result.snapshot.name} — nach Durchsicht: imon publish{again}",
            soft_wrap=True,
        )
    return 0


def _publish(args: argparse.Namespace) -> int:
    from etl.deliveries import publish, staged_warnings
    from etl.warehouse import staged

    profile = load_profile(args.profile)
    pending = staged(profile.curated_dir)
    warnings = staged_warnings(pending) if pending else []
    before, now = publish(profile, accept_warnings=args.accept_warnings)
    accepted = {"accepted_warnings": str(len(warnings))} if warnings else {}
    _log_action(
        profile, "publish", snapshot=now.name, before=before.name if before else None, **accepted
    )
    console.print(
        f"[green]Veröffentlicht:[/green] {now.name} (bisher: "
        f"{before.name if before else '–'}; zurück mit imon rollback)",
        soft_wrap=True,
    )
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from etl.deliveries import rollback

    profile = load_profile(args.profile)
    before, now = rollback(profile)
    _log_action(profile, "rollback", snapshot=now.name, before=before.name)
    console.print(
        f"[green]Zurückgesetzt:[/green] veröffentlicht ist wieder {now.name} "
        f"(bisher: {before.name})",
        soft_wrap=True,
    )
    return 0


def _log_action(profile, action: str, **details: str | None) -> None:
    """A line in the instance's access log (next to its users file), the OS user's."""
    from dashboards import access_log
    from dashboards.users import users_path

    access_log.record(
        users_path(profile),
        action,
        user=access_log.os_user(),
        instance=profile.instance,
        via="cli",
        **details,
    )


def _snapshots(args: argparse.Namespace) -> int:
    from etl.warehouse import snapshots

    for snap in snapshots(load_profile(args.profile).curated_dir):
        meta = snap.meta
        print(
            f"{snap.path.name}  {SNAPSHOT_STATE[snap.state]}  gebaut {meta.get('built_at')}  "
            f"Stichtage {meta.get('first_ref_date')} – {meta.get('last_ref_date')}"
        )
        for source, file, ref_date, sha256, rows in snap.loads:
            print(f"    {source}  {ref_date or '–'}  {file}  {rows} Zeilen  sha256 {sha256}")
    return 0


def _de(number: int) -> str:
    """Whole number with German thousands separators (1.234.567)."""
    return f"{number:,}".replace(",", ".")


def _serve(args: argparse.Namespace) -> int:
    """gunicorn (each worker builds the app) or, with ``--dev``, Werkzeug's server."""
    from dashboards import serving
    from dashboards.app import create_app
    from dashboards.data.queries import open_warehouse
    from dashboards.users import users_path

    profiles = [load_profile(path) for path in args.profile or [None]]
    names = [profile.instance for profile in profiles]
    if len(set(names)) < len(names):
        raise ImonError(f"serve: an instance is given twice ({', '.join(names)})")
    settings = _server_settings(profiles, args.proxy)
    for profile in profiles:
        open_warehouse(profile.curated_dir)  # fails fast if nothing is published
    access = {  # read by each worker: users files resolved here, where the profile is known
        profile.instance: profile.access.model_copy(update={"users_file": users_path(profile)})
        for profile in profiles
    }

    def make_app():
        return create_app(
            {profile.instance: profile.curated_dir for profile in profiles},
            settings=settings,
            legal_details={profile.instance: profile.legal for profile in profiles},
            access=access,
            keep_snapshots={profile.instance: profile.keep_snapshots for profile in profiles},
            internal=args.internal,
        )

    _report_legal_gaps(profiles)
    if args.internal:
        profiles_closed = [
            p.model_copy(update={"access": p.access.model_copy(update={"public": False})})
            for p in profiles
        ]
        _report_closed_without_users(profiles_closed)
        console.print(
            "Interner Server: jede Seite braucht eine Anmeldung; das Statistikamt sieht "
            "ungeschützte Werte (intern – nicht zur Veröffentlichung)."
        )
    else:
        _report_closed_without_users(profiles)
    if len(profiles) > 1:
        console.print("Datenbestände: " + ", ".join(f"{name} (?instance={name})" for name in names))
    if args.dev:
        app = make_app()
        console.print(f"Dashboard: http://{args.host}:{args.port}/  (Strg+C beendet)")
        serving.run_development(app, args.host, args.port)
    else:
        serving.run_production(
            lambda: make_app().server,
            args.host,
            args.port,
            workers=args.workers,
            threads=args.threads,
            announce=lambda url: console.print(f"Dashboard: {url}  (Strg+C beendet)"),
        )
    return 0


def _server_settings(profiles: list, proxy_hops: int | None):
    """The first profile's ``server:`` section (one server for all instances), with
    ``--proxy`` applied; another profile that sets a different one is an error."""
    settings = profiles[0].server
    for profile in profiles[1:]:
        if "server" in profile.model_fields_set and profile.server != settings:
            raise ImonError(
                f"serve: {profile.path}: its server: section differs from the first "
                f"profile's ({profiles[0].path}); the dashboard has one server, give it "
                "in the first profile only"
            )
    if proxy_hops is not None:
        settings = settings.model_copy(update={"proxy_hops": proxy_hops})
    return settings


def _report_closed_without_users(profiles: list) -> None:
    """A closed instance nobody can log in to is named (imon users add creates users)."""
    from dashboards import users

    for profile in profiles:
        if not profile.access.public and not users.load(users.users_path(profile)):
            console.print(
                f"[yellow]Geschlossen, aber ohne Benutzer[/yellow] ({profile.instance}): "
                f"imon users add --role office --profile {profile.path} NAME",
                soft_wrap=True,
                highlight=False,
            )


def _report_legal_gaps(profiles: list) -> None:
    """Name the legal: fields the Impressum, Datenschutz and Barrierefreiheit pages lack."""
    from dashboards.legal import PAGES, page_text

    for profile in profiles:
        missing = {name for page in PAGES for name in page_text(page, profile.legal, "de").missing}
        if missing:
            console.print(
                f"[yellow]Rechtliche Seiten unvollständig[/yellow] ({profile.instance}): "
                f"im Profil fehlt legal: {', '.join(sorted(missing))}",
                soft_wrap=True,
                highlight=False,
            )


def _users_add(args: argparse.Namespace) -> int:
    from dashboards import users

    path = users.users_path(load_profile(args.profile))
    users.check_name(args.name)
    users.add(path, args.name, args.role, _new_password())
    console.print(f"[green]Angelegt:[/green] {args.name} ({args.role}) in {path}", soft_wrap=True)
    return 0


def _users_list(args: argparse.Namespace) -> int:
    from dashboards import users

    for user in users.load(users.users_path(load_profile(args.profile))).values():
        print(f"{user.name}\t{user.role}")
    return 0


def _users_log(args: argparse.Namespace) -> int:
    """The access log as tab-separated lines, oldest first (``at`` in UTC)."""
    from dashboards import access_log, users

    actions = access_log.ACTIONS
    if args.action is not None and args.action not in actions:
        raise users.UsersError(f"unknown action '{args.action}' (known: {', '.join(actions)})")
    since = args.since.isoformat() if args.since else ""
    print("\t".join((*access_log.COLUMNS, "instance", "details")))
    for entry in access_log.read(users.users_path(load_profile(args.profile))):
        if str(entry.get("at", "")) < since or args.action not in (None, entry.get("action")):
            continue
        cells = [entry.get(c) for c in (*access_log.COLUMNS, "instance")]
        cells.append(access_log.details(entry))
        print("\t".join("" if c is None else str(c).replace("\t", " ") for c in cells))
    return 0


def _users_remove(args: argparse.Namespace) -> int:
    from dashboards import users

    path = users.users_path(load_profile(args.profile))
    users.remove(path, args.name)
    console.print(f"[green]Entfernt:[/green] {args.name} ({path})", soft_wrap=True)
    return 0


def _users_passwd(args: argparse.Namespace) -> int:
    from dashboards import users

    path = users.users_path(load_profile(args.profile))
    if args.name not in users.load(path):
        raise users.UsersError(f"{path}: no user '{args.name}' (imon users list)")
    users.set_password(path, args.name, _new_password())
    console.print(f"[green]Passwort geändert:[/green] {args.name}", soft_wrap=True)
    return 0


def _new_password() -> str:
    """``IMON_PASSWORD``, else the first line of standard input when that is not a
    terminal (``printf '%s\\n' "$PW" | imon users add …``), else asked twice at the prompt."""
    import getpass
    import os

    from dashboards.users import UsersError, check_password

    given = os.environ.get("IMON_PASSWORD")
    if given is None and not sys.stdin.isatty():
        given = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not given:
            raise UsersError("no password on standard input (one line expected)")
    if given is not None:
        check_password(given)
        return given
    first = getpass.getpass("Passwort: ")
    check_password(first)
    if getpass.getpass("Passwort wiederholen: ") != first:
        raise UsersError("the two passwords differ")
    return first


def _audit(args: argparse.Namespace) -> int:
    """Exit 0 when every protected cell keeps its protection interval, 1 otherwise."""
    from etl import publication, warehouse
    from etl.audit import format_report
    from etl.indicators.spec import load_catalogue

    profile = load_profile(args.profile)
    find = warehouse.staged if args.staged else warehouse.published
    snapshot = find(profile.curated_dir)
    if snapshot is None:
        state = "staged" if args.staged else "published"
        raise ImonError(f"{profile.curated_dir}: no {state} snapshot to audit")
    catalogue = load_catalogue(profile.indicators)
    # every interval optimised to both ends: the build's audit stops as soon as an LP
    # solution shows the requirement, which is enough to pass or fail but not to report
    # the narrowest interval; DuckDB within the profile's resources, as in a build
    with warehouse.resources(profile):
        report = publication.audit_report(snapshot, catalogue, profile, exact=True)
    print(f"Snapshot {snapshot.name}")
    print(format_report(report, lang=args.lang))
    return 0 if report.passed else 1


def _values(args: argparse.Namespace) -> int:
    from dashboards.export.values import write_values

    profile = load_profile(args.profile)
    try:
        write_values(
            profile.curated_dir,
            sys.stdout,
            args.indicator,
            args.level,
            args.ref_date,
            args.area,
            args.boundaries,
        )
    except ImonError as exc:
        raise _left_out(profile, [args.indicator], exc) from exc
    return 0


def _left_out(profile, indicators: list[str], exc: ImonError) -> ImonError:
    """An indicator of the catalogue that this instance has no data for is not 'unknown':
    say which groups or measures it needs that the profile's data do not give."""
    from etl.indicators.spec import load_catalogue, term_key, term_name

    if not str(exc).startswith("unknown indicator"):
        return exc
    catalogue = {i.id: i for i in load_catalogue(profile.indicators).indicators}
    for name in indicators:
        if name in catalogue and str(exc).startswith(f"unknown indicator '{name}'"):
            needs = sorted({term_name(term_key(r)) for r in catalogue[name].terms().values()})
            return ImonError(
                f"no data in this instance for indicator '{name}': it needs "
                f"{', '.join(needs)}, and the profile maps no table or register to some of "
                "them (imon build lists every indicator left out and why)"
            )
    return exc


def _export(args: argparse.Namespace) -> int:
    from dashboards.export.report import (  # Kaleido, only here
        ExportRequest,
        parse_formats,
        run_export,
    )

    profile = load_profile(args.profile)
    indicators = [i for value in args.indicators for i in value.split(",") if i]
    request = ExportRequest(
        indicators,
        parse_formats(args.formats),
        args.out,
        args.level,
        args.ref_date,
        args.area,
        args.lang,
        args.definition,
        args.classes,
    )
    try:
        written = run_export(
            profile.curated_dir,
            request,
            lambda m: console.print(m, highlight=False, soft_wrap=True),
        )
    except ImonError as exc:
        raise _left_out(profile, indicators, exc) from exc
    console.print(f"[green]{len(written)} Dateien[/green] nach {args.out} geschrieben.")
    return 0


def _report(args: argparse.Namespace) -> int:
    from dashboards.export.yearly_report import ReportRequest, run_report  # Kaleido, WeasyPrint

    profile = load_profile(args.profile)
    request = ReportRequest(args.out, args.ref_date, args.lang, args.internal)
    run_report(profile, request, lambda m: console.print(m, highlight=False, soft_wrap=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

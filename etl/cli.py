"""The ``imon`` command line: demo-data, build, serve, values."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from etl.build import Reporter, build
from etl.errors import ImonError
from etl.profile import load_profile

console = Console(stderr=True)


class RichReporter(Reporter):
    """Progress bars and messages on stderr (stdout stays clean for data)."""

    def info(self, message: str) -> None:
        console.print(message)

    def track(self, items: Iterable, description: str, total: int) -> Iterator:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imon", description="Integrationsmonitor")
    sub = parser.add_subparsers(dest="command", required=True)
    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument("--profile", type=Path, default=None,
                         help="instance profile (YAML); default: the demo city Musterstadt")

    demo = sub.add_parser("demo-data", parents=[profile], help="write the demo city's raw files")
    demo.add_argument("--persons", type=int, default=110_000)
    demo.add_argument("--first-year", type=int, default=2010)
    demo.add_argument("--last-year", type=int, default=2024)
    demo.add_argument("--seed", type=int, default=20241231)
    demo.add_argument("--force", action="store_true", help="overwrite existing demo files")
    demo.set_defaults(run=_demo_data)

    sub.add_parser("build", parents=[profile], help="raw files -> published warehouse"
                   ).set_defaults(run=_build)

    serve = sub.add_parser("serve", parents=[profile], help="serve the dashboard")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--host", default="127.0.0.1")
    serve.set_defaults(run=_serve)

    values = sub.add_parser("values", parents=[profile], help="indicator values as CSV")
    values.add_argument("--indicator", required=True)
    values.add_argument("--level")
    values.add_argument("--date", type=_iso_date, dest="ref_date")
    values.add_argument("--area")
    values.set_defaults(run=_values)
    return parser


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from exc


def _demo_data(args: argparse.Namespace) -> int:
    from etl.demo import write_demo  # imported late: numpy-heavy, only needed here

    profile = load_profile(args.profile)
    if any(profile.raw_dir.glob("*/*/*")) and not args.force:
        console.print(f"Demo-Rohdaten liegen bereits in {profile.raw_dir} "
                      "(--force erzeugt sie neu).")
        return 0
    paths = write_demo(profile.raw_dir, persons=args.persons, first_year=args.first_year,
                       last_year=args.last_year, seed=args.seed, progress=console.print)
    console.print(f"{len(paths)} Dateien nach {profile.raw_dir} geschrieben.")
    return 0


def _build(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    result = build(profile, RichReporter())
    persons = f"{_de(result.persons)} Personen, " if profile.register_source else ""
    console.print(f"[green]Veröffentlicht:[/green] {result.snapshot.name} — {persons}"
                  f"{len(result.ref_dates)} Stichtage, {_de(result.values)} Indikatorwerte"
                  + (f", {len(result.skipped)} Indikatoren ohne Daten" if result.skipped else ""),
                  soft_wrap=True)
    return 0


def _de(number: int) -> str:
    """Whole number with German thousands separators (1.234.567)."""
    return f"{number:,}".replace(",", ".")


def _serve(args: argparse.Namespace) -> int:
    from dashboards.app import create_app
    from etl.warehouse import current_database

    profile = load_profile(args.profile)
    current_database(profile.curated_dir)  # a clear error before the server starts
    app = create_app(profile.curated_dir)
    console.print(f"Dashboard: http://{args.host}:{args.port}/  (Strg+C beendet)")
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def _values(args: argparse.Namespace) -> int:
    from etl.values import write_values

    profile = load_profile(args.profile)
    write_values(profile.curated_dir, sys.stdout, args.indicator, args.level, args.ref_date,
                 args.area)
    return 0


if __name__ == "__main__":
    sys.exit(main())

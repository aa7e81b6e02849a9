"""``python -m etl.audit PUBLICATION INTERNAL [options]``: run the attack audit and print the
summary; exit status 1 when a protected cell fails its requirement."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.audit import format_report, run_audit
from etl.indicators.spec import load_catalogue


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, audit, print; 0 = passed, 1 = failures."""
    parser = argparse.ArgumentParser(prog="python -m etl.audit", description=__doc__)
    parser.add_argument("publication", type=Path)
    parser.add_argument("internal", type=Path)
    parser.add_argument("--catalogue", type=Path, default=Path("indicators.yaml"))
    parser.add_argument("--protection", type=int, default=3)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--method", choices=("suppression", "cell_key"), default="suppression")
    parser.add_argument("--max-deviation", type=int)
    parser.add_argument("--min-denominator", type=int)
    parser.add_argument("--rounding", type=int, help="published counts rounded to this base")
    parser.add_argument("--lang", choices=("de", "en"), default="de")
    parser.add_argument("--limit", type=int, default=10, help="failures and findings shown")
    args = parser.parse_args(argv)
    report = run_audit(
        args.publication,
        args.internal,
        load_catalogue(args.catalogue),
        args.protection,
        args.min_count,
        args.method,
        args.max_deviation,
        args.min_denominator,
        args.rounding,
    )
    print(format_report(report, lang=args.lang, limit=args.limit))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""Page speed on Berlin (#19): every page of the dashboard until it is ready, in Chromium,
served by gunicorn as in production.

Usage: python -m benchmarks.pages [CURATED_DIR] [--before REV] [--after REV] [--pages A,B]
(default curated dir as benchmarks/latency.py: a built data/curated/berlin, else a fresh build
of profiles/berlin.yaml). ``--before REV`` serves the app of commit REV (``git archive`` into
bench-work/pages/, nothing in the checkout changes) on a second server and loads both
versions in turn, so both see the same load; ``--after REV`` does the same for the newer
side (default: this checkout). ``--pages`` keeps the pages whose names start with one of the
given words. Writes its section of BENCHMARKS.md and prints JSON (last line).

*Ready* is the moment the page's heading is there, no Dash component is loading any more
and every chart on the page is drawn (Plotly's SVG present) — what a reader waits for;
measured in the page (``performance.now()`` from the start of the navigation), so the
time includes the server's callbacks, the transfer and the drawing. Each page is loaded
10 times after one warm-up load (warm server: its caches hold what they would
for a returning reader), each in a fresh browser context: nothing carried over, not even
the HTTP cache, so every load is a first visit that transfers plotly.js again. Desktop
1280 × 900 and phone 390 × 844 (where figures are laid out for the phone). Bytes: the
compressed bodies of a first load in a fresh context.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import latency

REPO = Path(__file__).resolve().parents[1]
HEADING = "## Page speed in Chromium (Berlin)"
LOADS = 10
GOAL_S = 1.5
PAGES = [
    ("Start", "/"),
    ("Gebiet (Neukölln)", "/gebiet?area=08"),
    ("Karte (Planungsräume 2020)", "/karte?level=planning_area&date=2020-12-31"),
    ("Zeitreihen", "/zeitreihen"),
    ("Segregation", "/segregation"),
    ("Ziele", "/ziele"),
    ("Profil (Neukölln)", "/profil?area=08"),
    ("Vergleich", "/vergleich"),
    ("Indikatoren", "/indikatoren"),
    ("Daten", "/daten"),
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
READY_JS = """
() => document.querySelector('#main h1')
      && !document.querySelector('[data-dash-is-loading]')
      && Array.from(document.querySelectorAll('#main .js-plotly-plot'))
           .every(g => g.querySelector('.main-svg .gtitle, .main-svg .annotation-text'))
      && (window.imonReady = window.imonReady || performance.now())
"""


def load_once(browser, url: str, viewport: dict) -> tuple[float, int]:
    """Seconds until ready and compressed bytes of one load in a fresh context (its
    cookie for a phone set by a first visit, as phone.js sets it)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    finished: list = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_function(READY_JS, polling="raf", timeout=120000)
    ready_ms = page.evaluate("window.imonReady")
    page.wait_for_load_state("networkidle")
    size = sum(r.sizes()["responseBodySize"] for r in finished)  # before the page closes
    context.close()
    return ready_ms / 1000, size


def _row(name: str, path: str, device: str, times: list[float], first_bytes: int) -> dict:
    ordered = sorted(times)
    return {
        "page": name,
        "path": path,
        "device": device,
        "loads": len(times),
        "p50_s": round(statistics.median(times), 2),
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max_s": round(ordered[-1], 2),
        "kib": round(first_bytes / 1024),
    }


def measure(ports: dict[str, int], pages: list[tuple[str, str]] = PAGES) -> dict[str, list]:
    """Rows per version (``{version: port}``); with two versions their loads alternate."""
    from playwright.sync_api import sync_playwright

    rows: dict[str, list] = {version: [] for version in ports}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=latency.CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for name, path in pages:
            for device, viewport in VIEWPORTS.items():
                urls = {v: f"http://127.0.0.1:{port}{path}" for v, port in ports.items()}
                first = {v: load_once(browser, url, viewport)[1] for v, url in urls.items()}
                times: dict[str, list] = {v: [] for v in ports}
                for _ in range(LOADS):
                    for version, url in urls.items():
                        times[version].append(load_once(browser, url, viewport)[0])
                for version in ports:
                    rows[version].append(_row(name, path, device, times[version], first[version]))
                    print(version, json.dumps(rows[version][-1]), file=sys.stderr)
        browser.close()
    return rows


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _seconds(value: float) -> str:
    return f"{value:.2f}".replace(".", ",") + " s"


def _kib(value: int) -> str:
    return f"{value:,}".replace(",", ".") + " KiB"


def section(rows: dict[str, list], machine: str, before: str, after: str, note: str = "") -> str:
    """The BENCHMARKS.md section: one table, a column group per version."""
    versions = list(rows)
    command = "python -m benchmarks.pages" + (f" {note}" if note else "")
    lines = [
        HEADING,
        "",
        f"Command: `{command}` (Berlin build, gunicorn "
        f"{latency.WORKERS} workers × {latency.THREADS} threads per version, Debian's Chromium "
        f"via Playwright). {machine}. Load average (1, 5, 15 min) before: {before}; after: "
        f"{after}.",
        "",
        "\n\n".join(__doc__.split("\n\n")[2:]).strip(),
        "",
    ]
    if len(versions) == 1:
        head = "| page | device | p50 | p95 | max | first load |"
        rule = "|---|---|---:|---:|---:|---:|"
    else:
        head = "| page | device | " + " | ".join(
            f"{k} {v}" for v in versions for k in ("p50", "p95")
        )
        head += " | " + " | ".join(f"first load {v}" for v in versions) + " |"
        rule = "|---|---|" + "---:|" * (3 * len(versions))
    lines += [head, rule]
    last = rows[versions[-1]]
    for i, r in enumerate(last):
        cells = [r["page"], r["device"]]
        if len(versions) == 1:
            cells += [_seconds(r["p50_s"]), _seconds(r["p95_s"]), _seconds(r["max_s"])]
            cells.append(_kib(r["kib"]))
        else:
            cells += [_seconds(rows[v][i][k]) for v in versions for k in ("p50_s", "p95_s")]
            cells += [_kib(rows[v][i]["kib"]) for v in versions]
        lines.append("| " + " | ".join(cells) + " |")
    slow = [f"{r['page']} ({r['device']})" for r in last if r["p95_s"] > GOAL_S]
    lines += [
        "",
        f"Goal p95 ≤ {_seconds(GOAL_S)} on every page ({versions[-1]}): "
        + ("met." if not slow else "not met on " + ", ".join(slow) + "."),
        "",
    ]
    return "\n".join(lines)


def write(text: str, path: Path = REPO / "BENCHMARKS.md") -> None:
    """Replace this benchmark's section (up to the next ``## `` heading) or append it."""
    old = path.read_text(encoding="utf-8")
    head, found, rest = old.partition(HEADING)
    if found:
        _, nxt, tail = rest.partition("\n## ")
        rest = f"\n## {tail}" if nxt else ""
        new = head + text + rest
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def checkout(rev: str) -> Path:
    """The tree of commit ``rev`` under bench-work/pages/<sha> (``git archive``; the
    checkout itself is not touched)."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    target = REPO / "bench-work" / "pages" / sha
    if not (target / "app.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", sha], cwd=REPO, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def main(argv: list[str]) -> None:
    import argparse

    from benchmarks.run import machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages")
    parser.add_argument("curated", nargs="?")
    parser.add_argument("--before")
    parser.add_argument("--after")
    parser.add_argument("--pages")
    args = parser.parse_args(argv)
    curated = latency.curated_dir([args.curated] if args.curated else [])
    trees = {}
    if args.before:
        trees[f"vorher ({args.before})"] = checkout(args.before)
    trees[f"nachher ({args.after})" if args.after else "nachher" if args.before else "jetzt"] = (
        checkout(args.after) if args.after else REPO
    )
    chosen = PAGES
    if args.pages:
        words = args.pages.split(",")
        chosen = [(n, p) for n, p in PAGES if any(n.startswith(w) for w in words)]
    note = " ".join(f"--{k} {v}" for k, v in vars(args).items() if v and k != "curated")
    load_before = load_average()
    servers, ports = [], {}
    try:
        for version, tree in trees.items():
            ports[version] = latency.free_port()
            servers.append(latency.serve(curated, ports[version], repo=tree))
        start = time.perf_counter()
        rows = measure(ports, chosen)
        seconds = round(time.perf_counter() - start)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    write(section(rows, machine(), load_before, load_average(), note))
    print(json.dumps({"curated_dir": str(curated), "seconds": seconds, "pages": rows}))


if __name__ == "__main__":
    main(sys.argv[1:])

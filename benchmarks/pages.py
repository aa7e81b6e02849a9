"""Page speed on Berlin (#19): every page of the dashboard until it is ready, in Chromium,
served by gunicorn as in production.

Usage: python -m benchmarks.pages [CURATED_DIR]   (default as benchmarks/latency.py: a built
data/curated/berlin, else a fresh build of profiles/berlin.yaml). Writes its section of
BENCHMARKS.md and prints JSON (last line).

*Ready* is the moment the page's heading is there, no Dash component is loading any more
and every chart on the page is drawn (Plotly's SVG present) — what a reader waits for;
measured in the page (``performance.now()`` from the start of the navigation), so the
time includes the server's callbacks, the transfer and the drawing. Each page is loaded
``LOADS`` times after one warm-up load (warm server: its caches and the browser's HTTP
cache hold what a returning reader's would); a fresh browser context per load (no page
state carried over). Desktop 1280 × 900 and phone 390 × 844 (where figures are laid out
for the phone). Bytes: the compressed bodies of a first load in a fresh context.
"""

from __future__ import annotations

import json
import statistics
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


def measure(port: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=latency.CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for name, path in PAGES:
            url = f"http://127.0.0.1:{port}{path}"
            for device, viewport in VIEWPORTS.items():
                _, first_bytes = load_once(browser, url, viewport)  # warm-up, bytes
                times = [load_once(browser, url, viewport)[0] for _ in range(LOADS)]
                ordered = sorted(times)
                rows.append(
                    {
                        "page": name,
                        "path": path,
                        "device": device,
                        "loads": LOADS,
                        "p50_s": round(statistics.median(times), 2),
                        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
                        "max_s": round(ordered[-1], 2),
                        "kib": round(first_bytes / 1024),
                    }
                )
                print(json.dumps(rows[-1]), file=sys.stderr)
        browser.close()
    return rows


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def section(rows: list[dict], machine: str, before: str, after: str) -> str:
    def s(value: float) -> str:
        return f"{value:.2f}".replace(".", ",") + " s"

    lines = [
        HEADING,
        "",
        "Command: `python -m benchmarks.pages` (Berlin build, gunicorn "
        f"{latency.WORKERS} workers × {latency.THREADS} threads, Debian's Chromium via "
        f"Playwright). {machine}. Load average (1, 5, 15 min) before: {before}; after: {after}.",
        "",
        "\n\n".join(__doc__.split("\n\n")[2:]).strip(),
        "",
        "| page | device | p50 | p95 | max | first load |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        kib = f"{r['kib']:,}".replace(",", ".")
        lines.append(
            f"| {r['page']} | {r['device']} | {s(r['p50_s'])} | {s(r['p95_s'])} | "
            f"{s(r['max_s'])} | {kib} KiB |"
        )
    slow = [f"{r['page']} ({r['device']})" for r in rows if r["p95_s"] > GOAL_S]
    lines += [
        "",
        f"Goal p95 ≤ {s(GOAL_S)} on every page: "
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


def main(argv: list[str]) -> None:
    from benchmarks.run import machine

    curated, port = latency.curated_dir(argv), latency.free_port()
    before = load_average()
    server = latency.serve(curated, port)
    try:
        start = time.perf_counter()
        rows = measure(port)
        seconds = round(time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait(timeout=30)
    write(section(rows, machine(), before, load_average()))
    print(json.dumps({"curated_dir": str(curated), "seconds": seconds, "pages": rows}))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Callback latency of the Karte page on Berlin's planning areas, served by gunicorn.

Usage: python -m benchmarks.latency [CURATED_DIR]   (default: data/curated/berlin if built,
else a fresh build of profiles/berlin.yaml into bench-work/latency). Prints JSON (last line).

The app runs under gunicorn on 127.0.0.1 (``app:server``, IMON_CURATED_DIR). Clients are
threads with one keep-alive connection each, posting the ``/_dash-update-component``
request a date change sends (built from ``/_dash-dependencies``): the reference date
cycles through the planning-area dates with boundaries. Two cases: the browser does not
have the boundaries yet (``map-drawn`` empty: the whole figure comes back) and it has them
(``map-drawn`` set: a patch without geometry). The initial page's bytes are counted with
Playwright in Debian's chromium (sum of response body sizes).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INDICATOR, LEVEL = "foreigner_share", "planning_area"
DATES = [f"{y}-{md}" for y in range(2015, 2021) for md in ("06-30", "12-31")]
WORKERS, THREADS = 2, 4  # gunicorn gthread: 2 cores
CHROMIUM = "/usr/bin/chromium"


def curated_dir(argv: list[str]) -> Path:
    if argv:
        return Path(argv[0]).resolve()
    default = REPO / "data" / "curated" / "berlin"
    if (default / "current" / "warehouse.duckdb").exists():
        return default
    from etl.build import build
    from etl.profile import load_profile

    target = REPO / "bench-work" / "latency" / "curated"
    build(
        load_profile(REPO / "profiles" / "berlin.yaml").model_copy(update={"curated_dir": target})
    )
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(curated: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "IMON_CURATED_DIR": str(curated)}
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(WORKERS),
        "-k",
        "gthread",
        "--threads",
        str(THREADS),
        "-b",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--chdir",
        str(REPO),
        "app:server",
    ]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        try:
            get(port, "/")
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")


def get(port: int, path: str) -> bytes:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    con.request("GET", path)
    body = con.getresponse().read()
    con.close()
    return body


def map_callback(port: int) -> dict:
    """The map figure callback from ``/_dash-dependencies``."""
    for cb in json.loads(get(port, "/_dash-dependencies")):
        if "map-graph.figure" in cb["output"]:
            return cb
    raise SystemExit("no callback with output map-graph.figure")


def payload(cb: dict, date: str, drawn: dict | None) -> bytes:
    """The request body Dash's renderer posts when the reference date changes."""
    values = {
        "map-indicator": INDICATOR,
        "map-date": date,
        "map-level": LEVEL,
        "map-classes": "quantile",
        "map-labels": [],
        "map-drawn": drawn,
    }
    outputs = [
        dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
        for o in cb["output"].strip(".").split("...")
    ]
    return json.dumps(
        {
            "output": cb["output"],
            "outputs": outputs,
            "inputs": [{**i, "value": values[i["id"]]} for i in cb["inputs"]],
            "changedPropIds": ["map-date.value"],
            "state": [{**s, "value": values[s["id"]]} for s in cb["state"]],
        }
    ).encode()


def client(port: int, bodies: list[bytes], out: list, sizes: list) -> None:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"}
    for body in bodies:
        start = time.perf_counter()
        con.request("POST", "/_dash-update-component", body, headers)
        response = con.getresponse()
        data = response.read()
        out.append(time.perf_counter() - start)
        if response.status != 200:
            raise SystemExit(f"callback failed ({response.status}): {data[:500]!r}")
        sizes.append(len(data))
    con.close()


def run(port: int, cb: dict, drawn: dict | None, clients: int, per_client: int) -> dict:
    times, sizes, threads = [], [], []
    for c in range(clients):
        bodies = [payload(cb, DATES[(c + i) % len(DATES)], drawn) for i in range(per_client)]
        threads.append(threading.Thread(target=client, args=(port, bodies, times, sizes)))
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ms = sorted(t * 1000 for t in times)
    return {
        "clients": clients,
        "requests": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
        "max_ms": round(ms[-1], 1),
        "req_per_s": round(len(ms) / wall, 1),
        "response_kib": round(statistics.median(sizes) / 1024, 1),
    }


def drawn_meta(port: int, cb: dict) -> tuple[dict, int]:
    """``layout.meta`` of a full figure (what the browser stores in ``map-drawn``) and the
    number of areas drawn."""
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    con.request(
        "POST",
        "/_dash-update-component",
        payload(cb, DATES[0], None),
        {"Content-Type": "application/json"},
    )
    figure = json.loads(con.getresponse().read())["response"]["map-graph"]["figure"]
    con.close()
    areas = sum(len(trace.get("locations", [])) for trace in figure["data"])
    return figure["layout"]["meta"], areas


def page_bytes(port: int) -> dict:
    """Transferred response bodies of the initial Karte page (planning areas, 31.12.2015)
    in chromium (Playwright ``Request.sizes()``)."""
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{port}/karte?indicator={INDICATOR}&level={LEVEL}&date=2015-12-31"
    sizes: list[int] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#map-graph path.choroplethlocation", timeout=60000)
        page.wait_for_load_state("networkidle")
        seconds = time.perf_counter() - start
        browser.close()
    return {"requests": len(sizes), "kib": round(sum(sizes) / 1024), "seconds": round(seconds, 2)}


def main(argv: list[str]) -> None:
    curated, port = curated_dir(argv), free_port()
    server = serve(curated, port)
    try:
        cb = map_callback(port)
        drawn, areas = drawn_meta(port, cb)
        run(port, cb, None, 4, 2 * len(DATES))  # warm-up: imports, query caches per worker
        result = {
            "curated_dir": str(curated),
            "workers": WORKERS,
            "threads": THREADS,
            "dates": len(DATES),
            "areas": areas,
        }
        result["full"] = [run(port, cb, None, 1, 40), run(port, cb, None, 20, 10)]
        result["patch"] = [run(port, cb, drawn, 1, 40), run(port, cb, drawn, 20, 10)]
        result["page"] = page_bytes(port)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])

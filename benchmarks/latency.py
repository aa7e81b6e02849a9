"""Latency of the Karte page on Berlin's planning areas, served by gunicorn.

Usage: python -m benchmarks.latency [--login] [CURATED_DIR]   (default: data/curated/berlin
if built, else a fresh build of profiles/berlin.yaml into bench-work/latency). Prints JSON
(last line).

The app runs under gunicorn on 127.0.0.1 (``app:server``, IMON_CURATED_DIR). With
``--login`` the instance is closed (``benchmarks/login_app.py``: every request needs a
login): every HTTP client sends the session cookie of a logged-in user, the browser logs in
through the login page first, and each request passes the login check (session, users file,
role) before its callback runs.

- **Date change in the browser**: the map is re-coloured client-side from the frames the
  server sends once the map is drawn (pages/map.py). Timed in Debian's chromium (Playwright): from
  choosing a date in the dropdown to the map's subtitle showing it, cycling through the
  planning-area dates with boundaries; alone, and while 19 HTTP clients send what a date
  change still asks of the server (the table) back to back (20 users). The browser stands
  for one user's own machine: gunicorn and the 19 clients run at the lowest CPU priority
  (nice 19) while it is timed, so they use what the browser leaves; what is measured is
  the effect of the server's load on a date change, not the test machine running browser,
  server and load generator on the same two cores.
- **Server requests**: clients are threads with one keep-alive connection each, posting
  the ``/_dash-update-component`` body the browser sends (built from
  ``/_dash-dependencies``), 1 and 20 clients: the table a date change fetches, the map an
  indicator change fetches (boundaries in the browser already), and the frames the browser
  asks for after drawing a map: first request of a view (computed) and repeated requests
  (each gunicorn worker caches the frames of 32 views).
- **Initial page**: bytes transferred (compressed), counted in chromium.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import re
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
VIEWS = [(m, labels) for m in ("quantile", "equal", "jenks") for labels in (False, True)]
WORKERS, THREADS = 2, 4  # gunicorn gthread: 2 cores
CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "bench", "latenz-messen-2026"
EXTRA: dict[str, str] = {}  # --login: the session cookie, sent with every request


def log_in(port: int) -> str:
    """The session cookie of USER after the login form (CSRF token from the form)."""
    from urllib.parse import urlencode

    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    con.request("GET", "/anmelden")
    response = con.getresponse()
    token = re.search(r'name="csrf" value="([^"]+)"', response.read().decode()).group(1)
    cookie = response.getheader("Set-Cookie").split(";")[0]
    form = urlencode({"csrf": token, "user": USER, "password": PASSWORD})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    con.request("POST", "/anmelden", form, headers)
    response = con.getresponse()
    response.read()
    con.close()
    if response.status != 303:
        raise SystemExit(f"login failed ({response.status})")
    return response.getheader("Set-Cookie").split(";")[0]


def browser_login(page, port: int) -> None:
    """Log the browser page in (--login), as a user does on /anmelden."""
    if not EXTRA:
        return
    page.goto(f"http://127.0.0.1:{port}/anmelden")
    page.fill("#login-user", USER)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def curated_dir(argv: list[str]) -> Path:
    if argv:
        return Path(argv[0]).resolve()
    default = REPO / "data" / "curated" / "berlin"
    if (default / "current" / "publication.duckdb").exists():
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


def serve(
    curated: Path, port: int, users_file: Path | None = None, repo: Path = REPO
) -> subprocess.Popen:
    """gunicorn serving ``curated`` with the app of ``repo`` (another checkout: a before/after
    comparison, benchmarks/pages.py)."""
    env = {**os.environ, "IMON_CURATED_DIR": str(curated)}
    if users_file is not None:
        env["IMON_USERS_FILE"] = str(users_file)
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
        str(repo),
        "benchmarks.login_app:server" if users_file else "app:server",
    ]
    server = subprocess.Popen(  # a session of its own: see lower()
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
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
    con.request("GET", path, headers=EXTRA)
    body = con.getresponse().read()
    con.close()
    return body


def callback_for(port: int, output: str) -> dict:
    """The callback with ``output`` (e.g. ``map-table.children``) from ``/_dash-dependencies``."""
    for cb in json.loads(get(port, "/_dash-dependencies")):
        if output in cb["output"].strip(".").split("..."):
            return cb
    raise SystemExit(f"no callback with output {output}")


def payload(cb: dict, values: dict, changed: str) -> bytes:
    """The request body Dash's renderer posts when ``changed`` (id.prop) changes."""
    outputs = [
        dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
        for o in cb["output"].strip(".").split("...")
    ]
    return json.dumps(
        {
            "output": cb["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [_item(i, values) for i in cb["inputs"]],
            "changedPropIds": [changed],
            "state": [_item(s, values) for s in cb.get("state", [])],
        }
    ).encode()


def _item(dependency: dict, values: dict) -> dict:
    """An input or state of the request: pattern-matching ids are objects, not strings."""
    key = dependency["id"]
    value = values.get(key)
    if key.startswith("{"):
        key = json.loads(key)
    return {"id": key, "property": dependency["property"], "value": value}


def controls(date: str, **other) -> dict:
    return {
        "map-indicator": INDICATOR,
        "map-date": date,
        "map-level": LEVEL,
        "map-classes": "quantile",
        "map-labels": [],
        **other,
    }


def client(port: int, bodies: list[bytes], out: list, sizes: list) -> None:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "Accept-Encoding": "br, gzip", **EXTRA}
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


def run(port: int, bodies: list[bytes], clients: int, per_client: int) -> dict:
    """``clients`` threads, each posting ``per_client`` of ``bodies`` (cycling) back to back."""
    times, sizes, threads = [], [], []
    for c in range(clients):
        mine = [bodies[(c + i) % len(bodies)] for i in range(per_client)]
        threads.append(threading.Thread(target=client, args=(port, mine, times, sizes)))
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {
        **summary([t * 1000 for t in times]),
        "clients": clients,
        "req_per_s": round(len(times) / wall, 1),
        "response_kib": round(statistics.median(sizes) / 1024, 1),
    }


def summary(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {
        "requests": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
        "max_ms": round(ms[-1], 1),
    }


def background(port: int, bodies: list[bytes], clients: int, nice: int) -> tuple:
    """``clients`` threads posting ``bodies`` (cycling) back to back on one keep-alive
    connection each, in a process of their own at CPU priority ``nice`` (:func:`lower`),
    until the returned event is set; then the returned queue yields their latencies (s)."""
    context = multiprocessing.get_context("fork")
    stop, results = context.Event(), context.SimpleQueue()
    context.Process(
        target=_load, args=(port, bodies, clients, nice, stop, results), daemon=True
    ).start()
    return stop, results


def _load(port: int, bodies: list[bytes], clients: int, nice: int, stop, results) -> None:
    os.setsid()  # a session, hence a scheduler group, of its own
    lower(os.getpid(), nice)
    times: list[float] = []

    def loop(offset: int) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Content-Type": "application/json", "Accept-Encoding": "br, gzip", **EXTRA}
        k = offset
        while not stop.is_set():
            start = time.perf_counter()
            con.request("POST", "/_dash-update-component", bodies[k % len(bodies)], headers)
            con.getresponse().read()
            times.append(time.perf_counter() - start)
            k += 1
        con.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(times)


def post(port: int, body: bytes) -> dict:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", **EXTRA}
    con.request("POST", "/_dash-update-component", body, headers)
    response = json.loads(con.getresponse().read())["response"]
    con.close()
    return response


def drawn_meta(port: int, map_cb: dict, frames_cb: dict) -> tuple[dict, int, dict]:
    """``layout.meta`` of a full map (what the browser stores in ``map-drawn``), the number
    of areas drawn and the frames the browser then asks for."""
    response = post(port, payload(map_cb, controls(DATES[0]), "map-indicator.value"))
    figure = response["map-graph"]["figure"]
    areas = sum(len(trace.get("locations", [])) for trace in figure["data"])
    meta = figure["layout"]["meta"]
    frames = post(port, frames_body(frames_cb, meta["key"], meta["geometry"]))
    return meta, areas, frames["map-frames"]["data"]


def frames_body(cb: dict, key: list, geometry: str) -> bytes:
    wanted = {"map-frames-wanted": {"key": key, "geometry": geometry}}
    return payload(cb, wanted, "map-frames-wanted.data")


ROUNDS = 4  # date changes per case: 4 x 12 dates
LOW_PRIORITY = 19  # nice value of the server and the load clients while the browser is timed


def lower(pid: int, nice: int) -> bool:
    """Give ``pid``'s scheduler group the CPU weight of ``nice``; False where not allowed.

    With autogroups (Linux' default, ``/proc/sys/kernel/sched_autogroup_enabled``) the
    scheduler first shares the CPU equally between sessions, and a nice value counts only
    inside its own session. Chromium starts its processes in sessions of their own, so
    the load must sit in its own session (gunicorn: ``start_new_session``; the clients:
    ``os.setsid``) and that session's weight be lowered (``/proc/<pid>/autogroup``);
    without autogroups the nice value of every thread is what counts."""
    allowed = True
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except PermissionError:  # raising the weight back needs privileges
        allowed = False
    except OSError:  # no autogroups
        pass
    for child in process_tree(pid):
        try:
            for tid in os.listdir(f"/proc/{child}/task"):
                os.setpriority(os.PRIO_PROCESS, int(tid), nice)
        except (FileNotFoundError, ProcessLookupError):
            continue
        except PermissionError:  # raising a nice value back needs privileges
            allowed = False
    return allowed


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``/proc/<pid>/task/<tid>/children``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for tid in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{tid}/children") as children:
                    todo += [int(child) for child in children.read().split()]
        except FileNotFoundError:  # ended meanwhile
            continue
    return found


# in the page: from the click on a date in the dropdown to Plotly's next "afterplot" of the
# map (the new colours drawn), in ms; the test driver's own time is not counted
CLOCK_JS = """
() => {
    window.imonDrawn = [];
    let start = null;
    document.addEventListener('click', e => {
        if (e.target.closest('[role=option]')) { start = performance.now(); }
    }, true);
    document.querySelector('#map-graph .js-plotly-plot').on('plotly_afterplot', () => {
        if (start !== null) { window.imonDrawn.push(performance.now() - start); start = null; }
    });
}
"""


def browser_dates(port: int, server_pid: int, table_bodies: list[bytes], load_clients: int) -> dict:
    """Date changes in chromium (choose a date, wait for the map's subtitle to show it),
    with ``load_clients`` HTTP clients sending table requests meanwhile; counts the
    requests for a map figure the date changes caused (0: all client-side). Gunicorn and
    the clients run at LOW_PRIORITY meanwhile."""
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{port}/karte?indicator={INDICATOR}&level={LEVEL}&date={DATES[0]}"
    figure_requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_login(page, port)
        page.goto(url)
        page.wait_for_selector("#map-graph path.choroplethlocation", timeout=60000)
        page.wait_for_load_state("networkidle")
        page.on(
            "request",
            lambda r: "map-graph.figure" in (r.post_data or "") and figure_requests.append(r.url),
        )
        lower(server_pid, LOW_PRIORITY)
        if load_clients:
            stop, results = background(port, list(table_bodies), load_clients, LOW_PRIORITY)
        time.sleep(1 if load_clients else 0)
        page.evaluate(CLOCK_JS)
        for i in range(1, ROUNDS * len(DATES) + 1):
            date = DATES[i % len(DATES)]
            label = f"{date[8:10]}.{date[5:7]}.{date[:4]}"
            page.click("#map-date")
            page.get_by_role("option", name=label, exact=True).click()
            page.wait_for_function(
                "t => Array.from(document.querySelectorAll('#map-graph .gtitle-subtitle'))"
                ".some(e => e.textContent.includes('Stichtag ' + t))",
                arg=label,
                timeout=60000,
            )
            page.wait_for_function("n => window.imonDrawn.length >= n", arg=i)
        times = page.evaluate("window.imonDrawn")
        load = []
        if load_clients:
            stop.set()
            load = results.get()
        browser.close()
    restored = lower(server_pid, 0)
    result = {
        **summary(times),
        "load_clients": load_clients,
        "figure_requests": len(figure_requests),
        "server_priority_restored": restored,
    }
    if load:
        result["load_requests"] = len(load)
        result["load_p95_ms"] = summary([t * 1000 for t in load])["p95_ms"]
    return result


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
        browser_login(page, port)
        page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#map-graph path.choroplethlocation", timeout=60000)
        page.wait_for_load_state("networkidle")
        seconds = time.perf_counter() - start
        browser.close()
    return {"requests": len(sizes), "kib": round(sum(sizes) / 1024), "seconds": round(seconds, 2)}


def main(argv: list[str]) -> None:
    login = "--login" in argv
    argv = [a for a in argv if a != "--login"]
    curated, port = curated_dir(argv), free_port()
    users_file = None
    if login:
        from dashboards import users

        users_file = REPO / "bench-work" / "latency" / "login" / "users.json"
        users_file.parent.mkdir(parents=True, exist_ok=True)
        users_file.unlink(missing_ok=True)
        users.add(users_file, USER, "commission", PASSWORD)
    server = serve(curated, port, users_file)
    try:
        if login:
            EXTRA["Cookie"] = log_in(port)
        map_cb, table_cb = (
            callback_for(port, "map-graph.figure"),
            callback_for(port, "map-table.children"),
        )
        frames_cb = callback_for(port, "map-frames.data")
        drawn, areas, frames = drawn_meta(port, map_cb, frames_cb)
        tables = [payload(table_cb, controls(d), "map-date.value") for d in DATES]
        maps = [
            payload(map_cb, controls(d, **{"map-drawn": drawn}), "map-indicator.value")
            for d in DATES[:4]
        ]
        views = [
            frames_body(frames_cb, [INDICATOR, LEVEL, m, labels], drawn["geometry"])
            for m, labels in VIEWS
        ]
        run(port, tables, 4, 2 * len(DATES))  # warm-up: imports, query caches per worker
        run(port, maps, 2, 4)
        result = {
            "login": login,
            "curated_dir": str(curated),
            "workers": WORKERS,
            "threads": THREADS,
            "dates": len(DATES),
            "areas": areas,
            "frames": len(frames["dates"]),
            "frames_kib": round(len(json.dumps(frames)) / 1024),
            "views": len(VIEWS),
        }
        result["server_nice"] = LOW_PRIORITY
        result["browser"] = [
            browser_dates(port, server.pid, tables, 0),
            browser_dates(port, server.pid, tables, 19),
        ]
        result["table"] = [run(port, tables, 1, 40), run(port, tables, 20, 10)]
        result["map"] = [run(port, maps, 1, 8), run(port, maps, 20, 2)]
        # the first request of each view is computed (the initial view's frames above were
        # the first; these views are new), then every worker has them or computes them once
        result["frames_first"] = run(port, views[1:], 1, len(views) - 1)
        result["frames_requests"] = [run(port, views, 1, 12), run(port, views, 20, 6)]
        result["page"] = page_bytes(port)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])

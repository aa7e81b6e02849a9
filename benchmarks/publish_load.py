"""Dashboard under load while a refresh publishes a new reference date.

A real server process (``imon serve``) answers simulated users on 127.0.0.1: each user is a
thread that repeats what a browser does on the overview and map pages (page shell, layout,
page content, key figures, the map's date list, the map figure) with a short think time,
until the run's duration or its request budget is used up. After ``publish_after`` seconds
one ``imon refresh --publish`` (a separate process) takes in a delivery with a new
reference date and publishes it. Recorded: every request's status and latency, when users
first see the new date, and the server's resident memory once per second.

``make bench`` runs :func:`main` (20 users, 5 minutes, the demo city) and returns figures
for BENCHMARKS.md; ``tests/etl/test_publish_load.py`` runs :func:`run_load` for ~20 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench-work" / "publish-load"


@dataclass
class LoadResult:
    users: int
    seconds: float
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    rss_mib: list[tuple[float, float]] = field(default_factory=list)  # (t, MiB) per second
    publish_started: float | None = None
    publish_seconds: float | None = None
    publish_exit: int | None = None
    new_date_seen: float | None = None  # t of the first response with the new date

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)
        rss = [m for _, m in self.rss_mib]
        return {
            "users": self.users,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "failed": len(self.failures),
            "req_per_s": round(self.requests / self.seconds, 1),
            "p50_ms": round(statistics.median(lat), 1) if lat else None,
            "p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
            "max_ms": round(lat[-1], 1) if lat else None,
            "publish_at_s": _round(self.publish_started),
            "publish_seconds": _round(self.publish_seconds),
            "publish_exit": self.publish_exit,
            "new_date_seen_at_s": _round(self.new_date_seen),
            "rss_start_mib": round(rss[0]) if rss else None,
            "rss_max_mib": round(max(rss)) if rss else None,
            "rss_end_mib": round(rss[-1]) if rss else None,
            "rss_growth_last_half_mib": round(self.growth_last_half(), 1),
        }

    def growth_last_half(self) -> float:
        """Max RSS of the last quarter minus max RSS of the third quarter of the run: a
        server whose memory keeps growing shows it here; one that settled shows ~0."""
        end = self.rss_mib[-1][0] if self.rss_mib else 0
        third = [m for t, m in self.rss_mib if end / 2 <= t < 3 * end / 4]
        last = [m for t, m in self.rss_mib if t >= 3 * end / 4]
        return max(last) - max(third) if third and last else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(profile: Path, port: int, log: Path) -> subprocess.Popen:
    """``imon serve`` in its own process; returns once it answers GET /."""
    server = subprocess.Popen(
        [sys.executable, "-m", "imon.cli", "serve", "--profile", str(profile), "--port", str(port)],
        cwd=REPO,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"imon serve exited with {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"imon serve did not answer within 90 s; see {log}")


class DashCalls:
    """Callback requests built the way the browser builds them: the callback from
    ``/_dash-dependencies``, input and state values from the page's layout (as the page
    renders them), some values overridden. ``get``/``post`` fetch JSON (HTTP or a test
    client)."""

    def __init__(self, get: Callable[[str], object], post: Callable[[str, dict], dict]) -> None:
        self.dependencies = get("/_dash-dependencies")
        self.post = post

    def page(self, pathname: str) -> dict[str, dict]:
        """{component id: props} of the page at ``pathname``."""
        body = self.request(
            "_pages_content.children",
            {},
            {"_pages_location.pathname": pathname, "_pages_location.search": ""},
        )
        layout = self.post(CALLBACK_PATH, body)["response"]["_pages_content"]["children"]
        return layout_values(layout)

    def request(self, output: str, values: dict[str, dict], overrides: dict) -> dict:
        """The request of the (server-side) callback whose output names ``output``."""
        dep = next(
            d
            for d in self.dependencies
            if output in d["output"] and not d.get("clientside_function")
        )

        def props(items: list[dict]) -> list[dict]:
            return [
                {
                    "id": i["id"],
                    "property": i["property"],
                    "value": overrides.get(
                        f"{i['id']}.{i['property']}", values.get(i["id"], {}).get(i["property"])
                    ),
                }
                for i in items
            ]

        inputs = props(dep["inputs"])
        return {
            "output": dep["output"],
            "outputs": _outputs(dep["output"]),
            "inputs": inputs,
            "state": props(dep["state"]),
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        }


CALLBACK_PATH = "/_dash-update-component"


def _outputs(output: str) -> dict | list[dict]:
    """Dash's output string (``..a.x...b.y..`` for several) as the request lists it."""

    def one(text: str) -> dict:
        component, _, prop = text.rpartition(".")
        return {"id": component, "property": prop}

    if output.startswith("..") and output.endswith(".."):
        return [one(part) for part in output[2:-2].split("...")]
    return one(output)


def layout_values(tree: object) -> dict[str, dict]:
    """{id: props} of every component with a plain string id in a Dash layout tree."""
    found, stack = {}, [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            stack.extend(v for v in props.values() if isinstance(v, dict | list))
    return found


def http_calls(base: str) -> DashCalls:
    def get(path: str) -> object:
        with urllib.request.urlopen(base + path, timeout=60) as response:
            return json.loads(response.read())

    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    return DashCalls(get, post)


def offered_dates(calls: DashCalls) -> list[str]:
    """The reference dates the map page offers for residents, newest first."""
    body = calls.request(
        "map-date.options", calls.page("/karte"), {"map-indicator.value": "population"}
    )
    options = calls.post(CALLBACK_PATH, body)["response"]["map-date"]["options"]
    return [option["value"] for option in options]


def user_requests(calls: DashCalls, date: str, level: str) -> list[tuple]:
    """(name, path, JSON body or None) of one pass over the overview and map pages: what a
    browser requests, with the map on residents at ``date`` and ``level``."""
    overview, karte = calls.page("/"), calls.page("/karte")
    shown = {"map-indicator.value": "population", "map-date.value": date, "map-level.value": level}
    return [
        ("index", "/", None),
        ("layout", "/_dash-layout", None),
        (
            "page",
            CALLBACK_PATH,
            calls.request(
                "_pages_content.children",
                {},
                {"_pages_location.pathname": "/karte", "_pages_location.search": ""},
            ),
        ),
        (
            "cards",
            CALLBACK_PATH,
            calls.request("overview-cards.children", overview, {"overview-date.value": date}),
        ),
        ("dates", CALLBACK_PATH, calls.request("map-date.options", karte, shown)),
        ("map", CALLBACK_PATH, calls.request("map-graph.figure", karte, shown)),
    ]


class _Users:
    """The simulated users of one run and what they saw."""

    def __init__(
        self,
        base: str,
        result: LoadResult,
        new_date: str,
        date: str,
        level: str,
        budget: int,
        seed: int,
    ) -> None:
        self.base, self.result, self.new_date = base, result, new_date
        self.requests = user_requests(http_calls(base), date, level)
        self.budget, self.seed = budget, seed
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.stop_at = self.start + result.seconds

    def run(self, user: int) -> None:
        rng = random.Random(self.seed + user)
        sent = 0
        while sent < self.budget and time.monotonic() < self.stop_at:
            for name, path, body in self.requests:
                if sent >= self.budget or time.monotonic() >= self.stop_at:
                    break
                self._one(name, path, body)
                sent += 1
                time.sleep(rng.uniform(0.05, 0.3))  # think time

    def _one(self, name: str, path: str, body: dict | None) -> None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            headers={"Content-Type": "application/json"} if data else {},
        )
        began = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = response.read()
                ok = response.status == 200 and (body is None or "response" in json.loads(payload))
                problem = None if ok else f"{name}: status {response.status}"
        except (OSError, ValueError) as exc:
            payload, problem = b"", f"{name}: {exc}"
        took = (time.monotonic() - began) * 1000
        seen = name == "dates" and self.new_date.encode() in payload
        with self.lock:
            self.result.requests += 1
            self.result.latencies_ms.append(took)
            if problem:
                self.result.failures.append(problem)
            if seen and self.result.new_date_seen is None:
                self.result.new_date_seen = time.monotonic() - self.start


def _sample_rss(pid: int, result: LoadResult, start: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        result.rss_mib.append((time.monotonic() - start, kib / 1024))
        stop.wait(1.0)


def run_load(
    profile: Path,
    delivery: Path,
    new_date: str,
    date: str,
    level: str,
    users: int = 20,
    seconds: float = 20,
    publish_after: float = 5,
    budget: int = 100_000,
    seed: int = 20250101,
    workdir: Path | None = None,
) -> LoadResult:
    """Users against ``imon serve`` of ``profile`` while ``imon refresh --publish
    delivery`` runs after ``publish_after`` s; ``date``/``level`` are what users look at."""
    workdir = workdir or profile.parent
    port = free_port()
    server = start_server(profile, port, workdir / "serve.log")
    result = LoadResult(users, seconds)
    try:
        crowd = _Users(f"http://127.0.0.1:{port}", result, new_date, date, level, budget, seed)
        stop = threading.Event()
        sampler = threading.Thread(
            target=_sample_rss, args=(server.pid, result, crowd.start, stop), daemon=True
        )
        threads = [threading.Thread(target=crowd.run, args=(u,)) for u in range(users)]
        sampler.start()
        for thread in threads:
            thread.start()
        time.sleep(publish_after)
        result.publish_started = time.monotonic() - crowd.start
        refresh = subprocess.run(
            [
                sys.executable,
                "-m",
                "imon.cli",
                "refresh",
                "--publish",
                "--profile",
                str(profile),
                str(delivery),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        result.publish_seconds = time.monotonic() - crowd.start - result.publish_started
        result.publish_exit = refresh.returncode
        (workdir / "refresh.log").write_text(refresh.stderr, encoding="utf-8")
        for thread in threads:
            thread.join()
        result.seconds = time.monotonic() - crowd.start
        stop.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def demo_instance(workdir: Path, persons: int, first: int, last: int) -> tuple[Path, Path]:
    """The demo city with extracts first..last-1 built and published, and the extract of
    ``last`` set aside as the delivery; returns (profile file, delivery)."""
    from etl.build import build
    from etl.demo import write_demo
    from etl.profile import DEFAULT_PROFILE, load_profile

    shutil.rmtree(workdir, ignore_errors=True)
    raw = workdir / "raw"
    write_demo(raw, persons=persons, first_year=first, last_year=last)
    folder = raw / "melderegister" / f"{last}-12-31"
    delivery = workdir / "inbox" / f"melderegister_{last}-12-31.csv"
    delivery.parent.mkdir(parents=True)
    shutil.move(folder / delivery.name, delivery)
    shutil.rmtree(folder)
    spec = yaml.safe_load(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    spec.update(
        raw_dir=str(raw),
        curated_dir=str(workdir / "curated"),
        indicators=str(REPO / "indicators.yaml"),
    )
    profile = workdir / "profile.yaml"
    profile.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), "utf-8")
    build(load_profile(profile))
    return profile, delivery


def main(
    users: int = 20, seconds: float = 300, persons: int = 100_000, budget: int = 5_000
) -> dict:
    """``make bench`` step: 20 users for 5 minutes on the demo city, one publish."""
    first, last = 2015, 2024
    profile, delivery = demo_instance(WORK, persons, first, last)
    load_before = os.getloadavg()[0]
    result = run_load(
        profile,
        delivery,
        f"{last}-12-31",
        f"{last - 1}-12-31",
        "district",
        users=users,
        seconds=seconds,
        publish_after=seconds / 3,
        budget=budget,
    )
    figures = {
        "persons": persons,
        "years": f"{first}–{last - 1}, delivery {last}",
        "budget": budget,
        **result.summary(),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    shutil.rmtree(WORK, ignore_errors=True)
    return figures


HEADING = "## Dashboard under load while a refresh publishes"


def table(r: dict) -> str:
    """The figures of one run as a Markdown table."""
    return "\n".join(
        [
            "| users | duration | requests | failed | req/s | p50 | p95 | max | `imon refresh "
            "--publish` | new date first served | server RSS start → max → end | RSS growth, "
            "last half |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|",
            f"| {r['users']} | {r['seconds']:.0f} s | {r['requests']:,} | {r['failed']} | "
            f"{r['req_per_s']} | {r['p50_ms']} ms | {r['p95_ms']} ms | {r['max_ms']} ms | "
            f"started at {r['publish_at_s']} s, took {r['publish_seconds']} s (exit "
            f"{r['publish_exit']}) | at {r['new_date_seen_at_s']} s | {r['rss_start_mib']} → "
            f"{r['rss_max_mib']} → {r['rss_end_mib']} MiB | {r['rss_growth_last_half_mib']} MiB |",
        ]
    )


def section(r: dict, machine_line: str) -> str:
    """The BENCHMARKS.md section (``make bench``, benchmarks/run.py)."""
    return "\n".join(
        [
            HEADING,
            "",
            "Command: `make bench` (this section alone: `python -m benchmarks.run publish`)",
            f"Machine: {machine_line}",
            f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            table(r),
            "",
            f"The demo city ({r['persons']:,} residents, extracts {r['years']}) is served by "
            "`imon serve` (Flask's threaded server, one process). Each of the "
            f"{r['users']} users is a thread on 127.0.0.1 that repeats a browser's requests on "
            "the overview and map pages (index, layout, page content, key figures, the map's "
            "dates, the map figure) with 50–300 ms think time, at most "
            f"{r['budget']:,} requests per user. After a third of the run `imon refresh "
            "--publish` (its own process) takes in the next year's extract, builds, writes the "
            "plausibility report and swaps `current`. *Failed*: any status other than 200, a "
            "callback answer without `response`, or a connection error. *New date first "
            "served*: the first map date list that contains the new reference date. *RSS "
            "growth, last half*: the server's peak resident memory in the last quarter of the "
            "run minus its peak in the third quarter (a server that keeps growing shows it "
            "here). The cores are shared with the refresh and with the load generator itself"
            + (
                f"; 1-minute load average {r['load_average'][0]} before and "
                f"{r['load_average'][1]} after the run."
                if "load_average" in r
                else "."
            ),
            "",
            "Raw results:",
            "",
            "```json",
            json.dumps(r, indent=1),
            "```",
            "",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--persons", type=int, default=100_000)
    options = parser.parse_args()
    figures = main(options.users, options.seconds, options.persons)
    print(table(figures))
    print(json.dumps(figures))

"""20 simulated users on a real ``imon serve`` while ``imon refresh --publish`` swaps in a
new reference date (~20 s; the 5-minute run is a step of ``make bench``)."""

from __future__ import annotations

from etl.build import build
from etl.profile import load_profile
from tests.etl.refresh_city import make_city, write_delivery
from tests.etl.test_refresh import BASE, NEW

USERS, SECONDS, BUDGET = 20, 20, 400


def test_no_failed_request_while_a_refresh_publishes(tmp_path):
    from benchmarks.publish_load import run_load

    profile_path = make_city(tmp_path, {"2023-12-31": BASE})
    build(load_profile(profile_path))
    delivery = write_delivery(tmp_path / "inbox", "2024-12-31", NEW)
    result = run_load(
        profile_path,
        delivery,
        "2024-12-31",
        "2023-12-31",
        "district",
        users=USERS,
        seconds=SECONDS,
        publish_after=5,
        budget=BUDGET,
    )
    summary = result.summary()
    print(f"\n{summary}")
    assert result.failures == []
    assert result.publish_exit == 0
    assert 20 * USERS < result.requests <= USERS * BUDGET
    # users see the new date once it is published, without a restart of the server
    assert result.new_date_seen is not None
    assert result.new_date_seen > result.publish_started
    # memory settles: the last quarter of the run peaks at most 25 MiB above the third
    assert result.growth_last_half() < 25, result.rss_mib

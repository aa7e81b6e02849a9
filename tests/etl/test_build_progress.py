"""The build's progress at scale (issue #17): rows per second and the time left of the
person-level steps, from the bytes of the register extracts still to read."""

from __future__ import annotations

from etl.build import Meter


def test_rows_per_second_and_time_left():
    now = [100.0]
    meter = Meter(total_bytes=3_000_000_000, clock=lambda: now[0])
    now[0] += 20  # 1 GB of 3 GB with 12 M rows in 20 s: 600,000 rows/s, 2 GB left = 40 s
    assert meter.done(1_000_000_000, 12_000_000) == (
        "12.000.000 Zeilen, 600.000 Zeilen/s, noch ca. 0:40"
    )
    now[0] += 3700  # the last 2 GB: 36 M rows in all after 3,720 s; nothing left
    assert meter.done(2_000_000_000, 24_000_000) == "24.000.000 Zeilen, 9.677 Zeilen/s"


def test_time_left_in_hours():
    now = [0.0]
    meter = Meter(total_bytes=400, clock=lambda: now[0])
    now[0] = 1241  # 100 of 400 bytes in 1,241 s: 3 × 1,241 s = 1 h 2 min 3 s left
    assert meter.done(100, 5).endswith("noch ca. 1:02:03")

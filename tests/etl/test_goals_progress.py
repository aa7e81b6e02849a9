"""Progress status (etl/goals/progress.py): known answers computed by hand.

Logarithms by hand (natural log, 7 digits): ln 1.2 = 0.1823216, ln 1.5 = 0.4054651,
ln 1.23 = 0.2070142, ln 1.05 = 0.0487902, ln 0.9 = −0.1053605, ln 0.75 = −0.2876821,
ln 1.06 = 0.0582689, ln 1.1 = 0.0953102, ln 1.01 = 0.0099503.
"""

from __future__ import annotations

from datetime import date

import pytest

from etl.goals import GoalIndicator, goal_status, status, years_between
from etl.goals.progress import (
    ACHIEVED,
    DETERIORATION,
    LIMITED,
    MODERATE,
    NOT_ASSESSABLE,
    SUBSTANTIAL,
    Progress,
)

TEXT = {"de": "x", "en": "x"}


def indicator(baseline, target=None, direction="increase", measure="number") -> GoalIndicator:
    return GoalIndicator(
        id="i",
        title=TEXT,
        project={"measure": measure, "unit": TEXT},
        definition=TEXT,
        source=TEXT,
        baseline={"date": baseline[0], "value": baseline[1]},
        target=None if target is None else {"value": target[0], "date": target[1]},
        direction=direction,
    )


D19, D24 = date(2019, 12, 31), date(2024, 12, 31)
HUNDRED_TO_150 = indicator((D19, 100), (150, date(2029, 12, 31)))


def test_years_from_the_calendar():
    assert years_between(D19, D24) == 5  # two leap days in between change nothing
    assert years_between(date(2020, 1, 1), date(2020, 7, 1)) == 0.5


def test_with_target_moderate_known_answer():
    # observed: exp(0.1823216 / 5) − 1 = exp(0.0364643) − 1 = 0.0371372
    # required: exp(0.4054651 / 10) − 1 = exp(0.0405465) − 1 = 0.0413797
    # R = 0.0371372 / 0.0413797 = 0.89747 -> 0.60 <= R < 0.95: moderate
    found = status(HUNDRED_TO_150, [(D19, 100), (date(2022, 12, 31), 110), (D24, 120)])
    assert found.status == MODERATE and found.method == "target"
    assert found.latest == (D24, 120.0)
    assert found.growth == pytest.approx(0.0371372, abs=1e-6)
    assert found.required == pytest.approx(0.0413797, abs=1e-6)
    assert found.ratio == pytest.approx(0.89747, abs=1e-4)


@pytest.mark.parametrize(
    ("latest", "expected", "ratio"),
    [
        (123, SUBSTANTIAL, 1.0216),  # exp(0.2070142/5) − 1 = 0.042272; / 0.0413797
        (105, LIMITED, 0.23697),  # exp(0.0487902/5) − 1 = 0.0098058; / 0.0413797
        (95, DETERIORATION, None),
        (150, ACHIEVED, None),
        (151, ACHIEVED, None),
    ],
)
def test_with_target_every_category(latest, expected, ratio):
    found = status(HUNDRED_TO_150, [(D24, latest)])
    assert found.status == expected
    if ratio is not None:
        assert found.ratio == pytest.approx(ratio, abs=1e-4)


def test_with_target_a_desired_fall():
    # segregation index 0.40 (2020) -> 0.30 (2030); 0.36 in 2024:
    # observed exp(−0.1053605/4) − 1 = −0.0259963; required exp(−0.2876821/10) − 1 =
    # −0.0283584; R = 0.91671: moderate
    ind = indicator((date(2020, 12, 31), 0.40), (0.30, date(2030, 12, 31)), "decrease")
    found = status(ind, [(D24, 0.36)])
    assert found.status == MODERATE
    assert found.ratio == pytest.approx(0.91671, abs=1e-4)
    assert status(ind, [(D24, 0.41)]).status == DETERIORATION
    assert status(ind, [(D24, 0.30)]).status == ACHIEVED


def test_a_count_from_zero_uses_the_yearly_change():
    # 0 (2019) -> target 40 (2025): 40/6 = 6.667 a year needed; 20 in 2023: 20/4 = 5
    # a year; R = 5 / 6.667 = 0.75: moderate
    ind = indicator((D19, 0), (40, date(2025, 12, 31)), measure="persons")
    found = status(ind, [(date(2023, 12, 31), 20)])
    assert found.status == MODERATE and not found.relative
    assert (found.growth, found.ratio) == (pytest.approx(5.0), pytest.approx(0.75))


def test_milestone():
    ind = indicator((D19, 0), (1, date(2024, 12, 31)), measure="milestone")
    assert status(ind, [(date(2022, 12, 31), 0)]).status == LIMITED  # R = 0
    assert status(ind, [(date(2022, 12, 31), 0), (D24, 1)]).status == ACHIEVED


@pytest.mark.parametrize(
    ("latest", "expected", "growth"),
    [
        (110, SUBSTANTIAL, 0.019245),  # exp(0.0953102/5) − 1
        (106, MODERATE, 0.011722),  # exp(0.0582689/5) − 1
        (101, LIMITED, 0.001992),  # exp(0.0099503/5) − 1
        (100, LIMITED, 0.0),
        (98, DETERIORATION, None),
    ],
)
def test_without_target_direction_and_size(latest, expected, growth):
    found = status(indicator((D19, 100)), [(D24, latest)])
    assert (found.status, found.method) == (expected, "trend")
    if growth is not None:
        assert found.growth == pytest.approx(growth, abs=1e-6)


def test_without_target_a_desired_fall_and_a_start_from_zero():
    falling = indicator((date(2020, 12, 31), 0.40), direction="decrease")
    assert status(falling, [(D24, 0.36)]).status == SUBSTANTIAL  # 2.6 % a year down
    assert status(falling, [(D24, 0.44)]).status == DETERIORATION
    from_zero = indicator((D19, 0), measure="persons")
    assert status(from_zero, [(D24, 5)]).status == SUBSTANTIAL
    assert status(from_zero, [(D24, 0)]).status == LIMITED


def test_not_assessable():
    assert status(HUNDRED_TO_150, []).status == NOT_ASSESSABLE
    # values on or before the baseline date, or withheld, are no second value
    found = status(HUNDRED_TO_150, [(date(2018, 12, 31), 90), (D19, 100), (D24, None)])
    assert found.status == NOT_ASSESSABLE and found.latest is None
    assert "weniger als zwei Werte" in found.reason
    # a series break after the baseline, up to the latest value
    broken = status(HUNDRED_TO_150, [(D24, 130)], breaks=[date(2021, 1, 1)])
    assert broken.status == NOT_ASSESSABLE
    assert broken.reason == "Reihenbruch am 01.01.2021 seit dem Ausgangswert"
    # a break before the baseline or after the latest value does not matter
    fine = status(HUNDRED_TO_150, [(D24, 130)], breaks=[date(2019, 1, 1), date(2025, 1, 1)])
    assert fine.status == SUBSTANTIAL  # exp(ln 1.3 / 5) − 1 = 0.0539 > 0.95 · 0.0414


def test_as_of_uses_the_state_on_that_date():
    values = [(date(2021, 12, 31), 150), (D24, 95)]
    assert status(HUNDRED_TO_150, values).status == DETERIORATION
    assert status(HUNDRED_TO_150, values, as_of=date(2023, 6, 30)).status == ACHIEVED
    assert status(HUNDRED_TO_150, values, as_of=date(2020, 6, 30)).status == NOT_ASSESSABLE


def test_goal_status_is_the_least_favourable_assessable():
    def progress(*found):
        return [Progress(s) for s in found]

    assert goal_status(progress(ACHIEVED, MODERATE, NOT_ASSESSABLE)) == MODERATE
    assert goal_status(progress(ACHIEVED, DETERIORATION)) == DETERIORATION
    assert goal_status(progress(NOT_ASSESSABLE, NOT_ASSESSABLE)) == NOT_ASSESSABLE
    assert Progress(LIMITED).label() == "Geringer Fortschritt"
    assert Progress(LIMITED).label("en") == "Limited progress"

"""The staff pages' pure parts: the bar chart's geometry, a run's stages, the forecast summed."""

import datetime as dt

from proactive.field.forecast import SiteWeek
from proactive.web import charts, staff


def test_the_chart_scales_to_the_largest_value() -> None:
    chart = charts.bar_chart(["a", "b"], [2.0, 4.0], [3.0, 3.0])
    assert chart.top == 4.0 and chart.bars[1].height == 2 * chart.bars[0].height
    assert chart.bars[1].y + chart.bars[1].height == chart.base
    assert len(chart.line.split()) == 2


def test_an_empty_chart_has_a_scale() -> None:
    chart = charts.bar_chart([], [], [])
    assert (chart.bars, chart.line, chart.top) == ([], "", 1.0)


def test_a_runs_stages_with_their_seconds() -> None:
    found = staff.stages('{"detect": {"seconds": 1.5, "opened": 3, "skipped": 1}, "issue": {}}')
    assert found == [("detect", 1.5, "opened 3，skipped 1"), ("issue", None, "")]
    assert staff.stages("") == []


def test_the_forecast_summed_per_site_and_week() -> None:
    monday = dt.date(2026, 11, 30)
    rows = [
        SiteWeek("C1", "一站", "西兴", monday, (1, 2, 0), 0.5, 10.0),
        SiteWeek("C1", "一站", "西兴", monday + dt.timedelta(days=7), (3, 0, 1), 1.0, 10.0),
        SiteWeek("C2", "二站", "西兴", monday, (0, 0, 0), 0.0, 5.0),
    ]
    (c1, c2) = staff.site_totals(rows)
    assert (c1.reaching, c1.needed, c1.capacity) == ((4, 2, 1), 1.5, 20.0)
    assert (c2.name, c2.reaching) == ("二站", (0, 0, 0))
    chart = staff.week_chart(rows)
    assert [b.value for b in chart.bars] == [0.5, 1.0] and chart.top == 15.0

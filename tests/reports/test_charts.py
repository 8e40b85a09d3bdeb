"""The reports' charts: SVG drawn on the server, shown as images with words for what they show."""

from __future__ import annotations

import base64
import re

from leadbaton.reports.charts import reconciliation_chart, speed_chart
from leadbaton.reports.periods import period_parse
from leadbaton.reports.reconciliation import reconciliation
from leadbaton.reports.service_levels import service_levels
from tests.reports.test_reconciliation import MONDAY
from tests.reports.test_reconciliation_pages import browser

W48 = period_parse("2026-W48", "Europe/Berlin")


def svg_of(src: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert src.startswith(prefix)
    return base64.b64decode(src[len(prefix):]).decode()


def test_the_reconciliation_chart_stacks_where_each_reps_leads_went(week):
    chart = reconciliation_chart(reconciliation(W48, now=MONDAY, team_id=week["emea"].pk))
    assert chart is not None
    assert chart.alt == ("Stacked bars, one per rep, of the 3 leads the reps had in 2026-W48: purchased 1; not interested 1; rejected 0; "
                         "reassigned away 0; open: in progress 0; open: untouched 1. The table has each rep's figures.")
    svg = svg_of(chart.src)
    assert "Where each rep's leads went, 2026-W48" in svg
    assert [name for name in ("Jonas Berg", "Lena Rep") if name in svg] == ["Jonas Berg", "Lena Rep"]
    assert not re.search(r'(src|href)="https?://', svg)  # nothing fetched from elsewhere


def test_the_speed_chart_counts_each_first_touch_in_its_bucket(week):
    chart = speed_chart(service_levels(W48, team_id=week["emea"].pk))
    assert chart is not None
    assert chart.alt == ("Bars of the 3 leads first owned in 2026-W48 by their wait for a first touch: ≤ 1 min 0, 1 to 5 min 1, "
                         "5 to 15 min 0, 15 to 60 min 1, 1 to 4 h 0, 4 to 24 h 0, over a day 0, not yet 1.")
    assert "Time to first touch, 2026-W48" in svg_of(chart.src)
    assert speed_chart(service_levels(period_parse("2026-W40", "Europe/Berlin"), team_id=week["emea"].pk)) is None


def test_the_pages_show_the_charts_as_images_with_their_words(week):
    for path in ("/reports/reconciliation/?period=2026-W48", "/reports/service-levels/?period=2026-W48"):
        html = browser(week["maria"]).get(path).content.decode()
        image = re.search(r'<figure class="chart" id="chart"><img src="(data:image/svg\+xml;base64,[A-Za-z0-9+/=]+)" alt="([^"]+)"', html)
        assert image, path
        assert "2026-W48" in image[2]
    empty = browser(week["maria"]).get("/reports/reconciliation/?period=2026-W40").content.decode()
    assert 'id="chart"' not in empty

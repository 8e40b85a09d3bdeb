"""The reconciliation on its page and in the API: who may read which ledger, each figure's leads, every refusal named."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client

from leadbaton.accounts.models import Role, Team, User
from leadbaton.core import clock
from leadbaton.pipeline.ownership import lead_reassign
from tests.api.test_rep_api import as_user, person, rep
from tests.reports.test_reconciliation import EVERY_DAY, MONDAY, arrive, emea_with


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def week(web_form):
    """EMEA in week 2026-W48: Anna and Carla came to Lena, Ben to Jonas; on Wednesday Maria gave Carla to Kai of the
    Americas. Asked on the Tuesday after."""
    emea, maria, (lena, jonas) = emea_with("Lena Rep", "Jonas Berg")
    frank = person("Frank Manager", Role.MANAGER)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="America/New_York", manager=frank)
    kai = rep("Kai Rep", amer, hours=EVERY_DAY, time_zone="America/New_York")
    with time_machine.travel(MONDAY, tick=False):
        anna, ben, carla = (arrive(web_form, f"{name}@northwind.example") for name in ("anna", "ben", "carla"))
    assert [lead["owner"]["id"] for lead in (anna, ben, carla)] == [lena.pk, jonas.pk, lena.pk]
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        lead_reassign(lead_id=carla["id"], by=person("Ada Admin", Role.ADMIN), reason="a US subsidiary", to_rep_id=kai.pk, now=clock.now())
    traveller = time_machine.travel(MONDAY + timedelta(days=8), tick=False)
    traveller.start()
    yield {"emea": emea, "maria": maria, "lena": lena, "jonas": jonas, "frank": frank, "kai": kai, "anna": anna["id"], "ben": ben["id"], "carla": carla["id"]}
    traveller.stop()


def cells(page: str, name: str) -> list[str]:
    """The figures of one row of the ledger, as the page shows them (the number each cell starts with)."""
    row = re.search(rf"<tr[^>]*>\s*<th scope=\"row\">{re.escape(name)}</th>(.*?)</tr>", page, re.DOTALL)
    assert row, f"no row for {name}"
    return [re.sub(r"<[^>]+>", "", cell).split()[0] for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.DOTALL)]


def test_a_manager_reads_last_weeks_ledger_and_follows_a_figure_to_its_leads(week):
    page = browser(week["maria"]).get("/reports/reconciliation/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Reconciliation: EMEA" in text
    assert "2026-W48: Mon 23 Nov 2026 to Sun 29 Nov 2026, in Europe/Berlin." in text
    assert cells(text, "Jonas Berg") == ["0", "1", "0", "0", "0", "0", "1", "yes"]
    assert cells(text, "Lena Rep") == ["0", "2", "0", "0", "0", "1", "1", "yes"]
    assert cells(text, "Total") == ["0", "3", "0", "0", "0", "1", "2", "yes"]
    assert "None: every lead is accounted for." in text
    link = unescape(re.search(r'<td data-label="Reassigned away"><a href="([^"]+)">1</a>', text)[1])
    assert link == f"?period=2026-W48&team=emea&show={week['lena'].pk}%3Areassigned_away#leads"
    leads = browser(week["maria"]).get("/reports/reconciliation/" + link.split("#")[0]).content.decode()
    # Carla now sells through the Americas: Maria may not open her lead, so it is named by number only.
    assert "Lena Rep: reassigned away (1)" in leads
    assert f"Lead {week['carla']} <span class=\"muted\">(no longer with a team you can see)</span>" in leads
    received = browser(week["maria"]).get(f"/reports/reconciliation/?period=2026-W48&team=emea&show={week['lena'].pk}:received").content.decode()
    assert f'<a href="/leads/{week["anna"]}/">Anna</a>' in received


def test_an_admin_reads_every_team_and_a_rep_their_own_row_only(week):
    every = browser(person("Zoe Admin", Role.ADMIN)).get("/reports/reconciliation/?team=&period=2026-W48").content.decode()
    assert "Reconciliation: Every team" in every
    assert cells(every, "Kai Rep") == ["0", "1", "0", "0", "0", "0", "1", "yes"]
    own = browser(week["lena"]).get("/reports/reconciliation/?period=2026-W48").content.decode()
    assert "Reconciliation: Every team: Lena Rep" in own
    assert "Jonas Berg" not in own
    assert cells(own, "Lena Rep") == ["0", "2", "0", "0", "0", "1", "1", "yes"]


@pytest.mark.parametrize(("who", "query", "status", "message"), [
    ("lena", "?rep={jonas}", 403, "a rep reads their own reports only; leave rep out"),
    ("frank", "?team=emea", 403, "you do not manage EMEA; the teams you may read: amer"),
    ("kai", "?team=emea", 403, "a rep reads their own reports only, of their own team; leave team out"),
])
def test_a_ledger_one_may_not_read_is_refused_with_why(week, who, query, status, message):
    page = browser(week[who]).get("/reports/reconciliation/" + query.format(jonas=week["jonas"].pk))
    assert page.status_code == status
    assert f'<p class="error" role="alert">{message[0].upper()}{message[1:]}.</p>' in page.content.decode()


def test_marketing_may_not_read_the_reps_ledgers(week):
    page = browser(person("Mark Marketer", Role.MARKETING)).get("/reports/reconciliation/")
    assert page.status_code == 403
    assert "The reps&#x27; ledgers are for admins, sales managers (their teams) and reps (their own)." in page.content.decode()


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?period=last+week", "period", "&#x27;last week&#x27; is not a period; give an ISO week (2026-W47), a month (2026-11) or a range of days"),
    ("?period=2026-W48&show=99:received", "show", "&#x27;99:received&#x27; names no figure of this report; follow a figure&#x27;s link"),
    ("?period=2026-W48&rep=lena", "rep", "&#x27;lena&#x27; is not a person&#x27;s number; the whole team is shown"),
    ("?period=2026-W48&rep=%C2%B2", "rep", "&#x27;²&#x27; is not a person&#x27;s number; the whole team is shown"),
    ("?period=2026-W48&team=apac", "team", "no team &#x27;apac&#x27;; the teams you may read: emea"),
    ("?period=9999-11", "period", "&#x27;9999-11&#x27; is outside the years 2000 to 2199"),
    ("?period=9999-12-31..9999-12-31", "period", "&#x27;9999-12-31..9999-12-31&#x27; is outside the years 2000 to 2199"),
    ("?period=0001-01", "period", "&#x27;0001-01&#x27; is outside the years 2000 to 2199"),
])
def test_a_query_the_page_cannot_read_is_said_and_what_was_typed_stays(week, query, field, message):
    page = browser(week["maria"]).get("/reports/reconciliation/" + query)
    text = page.content.decode()
    assert page.status_code == 400
    assert f'<li id="error-{field}"><strong>{field}</strong>: {message}' in text
    if field == "period":
        assert f'value="{unescape(message.split("&#x27;")[1])}"' in text  # what was typed stays in the field
        assert 'aria-invalid="true"' in text
    assert cells(text, "Total")  # the ledger is still shown (the last full week for a period it cannot read)


def test_the_api_gives_the_same_ledger_with_the_leads_behind_each_figure(week):
    answer = as_user(week["maria"]).get("/api/v1/reports/reconciliation?period=2026-W48")
    assert answer.status_code == 200
    body = answer.json()
    assert body["team"] == "emea"
    assert body["period"] == {"label": "2026-W48", "first_day": "2026-11-23", "last_day": "2026-11-29", "time_zone": "Europe/Berlin",
                              "start": "2026-11-22T23:00:00Z", "end": "2026-11-29T23:00:00Z"}
    lena = next(row for row in body["rows"] if row["rep"]["name"] == "Lena Rep")
    assert (lena["received"], lena["reassigned_away"], lena["open_at_end"], lena["balanced"]) == (2, 1, 1, True)
    assert lena["received_by"] == {"routing": 2, "queue": 0, "assigned": 0, "reassigned": 0, "sla": 0}
    assert body["unaccounted"] == []
    behind = as_user(week["maria"]).get(f"/api/v1/reports/reconciliation/leads?period=2026-W48&figure=reassigned_away&rep={week['lena'].pk}")
    assert behind.status_code == 200
    assert (behind.json()["figure"], behind.json()["rep"], behind.json()["lead_ids"]) == ("reassigned_away", week["lena"].pk, [week["carla"]])
    everyone = as_user(week["maria"]).get("/api/v1/reports/reconciliation/leads?period=2026-W48&figure=received").json()
    assert everyone["lead_ids"] == [week["anna"], week["ben"], week["carla"]]  # in the order they came


@pytest.mark.parametrize(("who", "query", "status", "field"), [
    ("maria", "?period=2026-W99", 422, "period"),
    ("maria", "?period=9999-12-31..9999-12-31", 422, "period"),
    ("maria", "?team=nowhere", 404, "team"),
    ("lena", "?rep={jonas}", 403, "rep"),
    ("frank", "?team=emea", 403, "team"),
])
def test_the_api_refuses_what_it_cannot_answer_naming_the_field(week, who, query, status, field):
    for path in ("/api/v1/reports/reconciliation", "/api/v1/reports/reconciliation/leads"):
        answer = as_user(week[who]).get(path + query.format(jonas=week["jonas"].pk) + ("&figure=received" if path.endswith("leads") else ""))
        assert answer.status_code == status
        assert [error["field"] for error in answer.json()["errors"]] == [field]


def test_the_api_names_the_figures_it_knows(week):
    answer = as_user(week["maria"]).get("/api/v1/reports/reconciliation/leads?figure=sold")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "figure"
    assert answer.json()["errors"][0]["message"].startswith("'sold' is not a figure; use one of open_at_start, received, purchased,")


def test_the_ledger_downloads_as_csv_streamed_with_formulas_kept_as_text(week):
    User.objects.filter(pk=week["jonas"].pk).update(name="=HYPERLINK(1)")
    answer = browser(week["maria"]).get("/reports/reconciliation/?period=2026-W48&format=csv")
    assert answer.status_code == 200
    assert answer.streaming
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == 'attachment; filename="reconciliation-emea-2026-W48.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0][:6] == ["period", "first_day", "last_day", "time_zone", "rep", "email"]
    assert [row[4] for row in rows[1:]] == ["'=HYPERLINK(1)", "Lena Rep", "Total"]
    assert rows[2][6:] == ["0", "2", "0", "0", "0", "0", "2", "0", "0", "0", "1", "1", "0", "1"]
    page = browser(week["maria"]).get("/reports/reconciliation/?period=2026-W48").content.decode()
    assert '<a href="?period=2026-W48&amp;team=emea&amp;format=csv">Download CSV</a>' in page


def test_the_first_and_last_periods_one_may_ask_for_have_no_link_beyond_them(week):
    first = browser(week["maria"]).get("/reports/reconciliation/?period=2000-01").content.decode()
    assert "← Earlier" not in first
    assert '<a href="?period=2000-02&amp;team=emea">Later →</a>' in first
    last = browser(week["maria"]).get("/reports/reconciliation/?period=2199-12").content.decode()
    assert "Later →" not in last


def test_a_manager_reads_the_people_of_their_teams_only_and_a_reps_ledger_in_the_team_they_sell_for(week):
    ada = person("Zoe Admin", Role.ADMIN)
    for client, path in ((as_user(week["frank"]), f"/api/v1/reports/reconciliation?rep={ada.pk}"),
                         (as_user(week["frank"]), f"/api/v1/reports/reconciliation?rep={week['lena'].pk}")):
        answer = client.get(path)
        assert answer.status_code == 404  # as for nobody: another team's people are not Frank's to read
        assert answer.json()["errors"][0]["message"].startswith("no person ")
    page = browser(week["frank"]).get(f"/reports/reconciliation/?rep={week['lena'].pk}").content.decode()
    assert "Lena Rep" not in page
    assert "no person" in page
    # Frank also manages EMEA now: asked for Lena without a team, her ledger is EMEA's, where she sells.
    week["emea"].manager = week["frank"]
    week["emea"].save()
    answer = as_user(week["frank"]).get(f"/api/v1/reports/reconciliation?rep={week['lena'].pk}&period=2026-W48").json()
    assert (answer["team"], answer["total"]["received"]) == ("emea", 2)
    kai = as_user(week["frank"]).get(f"/api/v1/reports/reconciliation?rep={week['kai'].pk}&period=2026-W48").json()
    assert (kai["team"], kai["total"]["received"]) == ("amer", 1)

"""Marketing accountability (P4, S3): per source and campaign, leads, sales-ready against the target, acceptance and
rejection reasons, purchases and value, and cost per lead, sales-ready lead and purchase."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils.html import escape

from leadbaton.accounts.models import Role
from leadbaton.core import clock
from leadbaton.intake.services import source_create
from leadbaton.leads.models import Inquiry, Lead
from leadbaton.notify.card import card_for, card_text
from leadbaton.organisation.file import OrgFileError, orgfile_parse
from leadbaton.pipeline.followup import activity_log, lead_reject, outcome_record
from leadbaton.pipeline.marketing import campaign_cost_enter, targets_change
from leadbaton.qualification.queries import targets_now
from leadbaton.qualification.services import definition_publish
from leadbaton.reports.marketing import MarketingRow, Targets, marketing_report
from leadbaton.reports.periods import period_parse
from leadbaton.worker.loop import Worker
from tests.api.test_rep_api import as_user, person
from tests.reports.test_reconciliation import MONDAY, emea_with
from tests.reports.test_reconciliation_pages import browser

W48 = period_parse("2026-W48", "Europe/Berlin")
LATER = MONDAY + timedelta(days=3)


def post(client: Client, **lead: object) -> dict:
    answer = client.post("/api/v1/leads", json.dumps(lead), content_type="application/json")
    assert answer.status_code in (200, 201), answer.json()
    return answer.json()


@pytest.fixture
def week(web_form):
    """2026-W48. Directors are sales-ready (50 points), anyone else is nurtured. From the website: four directors of the
    spring webinar and an analyst of it; from the trade show two directors and an analyst with no campaign. Sales
    rejected one webinar director as a student, bought from another for 5,000 EUR. The webinar cost 1,400 EUR over
    its two weeks, W47 and W48."""
    emea, maria, (lena,) = emea_with("Lena Rep")
    badges = Client(headers={"Authorization": f"Bearer {source_create(slug='badges', name='Trade-show badges', now=clock.now()).plaintext}"})
    admin, mia = person("Ada Admin", Role.ADMIN), person("Mia Marketer", Role.MARKETING)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        definition_publish(name="d", description="", required=[], threshold=50, signed_off_by=[], now=clock.now(),
                           fit_rules=[{"field": "title", "contains": "director", "points": 50}])
        webinar = [post(web_form, email=f"d{number}@northwind.example", title="Director", campaign="spring-webinar") for number in range(4)]
        post(web_form, email="analyst@northwind.example", title="Analyst", campaign="spring-webinar")
        show = [post(badges, email=f"s{number}@contoso.example", title="Director") for number in range(2)]
        post(badges, email="analyst@contoso.example", title="Analyst")
        traveller.shift(timedelta(minutes=5))
        lead_reject(lead_id=webinar[0]["id"], by=lena, reason="student", now=clock.now())
        activity_log(lead_id=webinar[1]["id"], by=lena, kind="call", result="connected", note="", now=clock.now())
        traveller.shift(timedelta(hours=2))
        outcome_record(lead_id=webinar[1]["id"], by=lena, outcome="purchased", value=Decimal("5000"), currency="EUR", now=clock.now())
        targets_change(by=admin, values={"sales_ready_per_week": 5, "acceptance_rate": 90}, now=clock.now())
        campaign_cost_enter(by=mia, values={"campaign": "spring-webinar", "first_day": "2026-11-16", "last_day": "2026-11-29",
                                            "amount": "1400", "currency": "eur"}, now=clock.now())
    assert [lead["stage"] for lead in show] == ["assigned", "assigned"]
    return {"emea": emea, "maria": maria, "lena": lena, "admin": admin, "mia": mia}


def test_each_source_and_campaign_against_marketings_targets(week):
    report = marketing_report(W48)
    website, badges = report.by_source
    assert (website.name, website.leads, website.sales_ready, website.rejected, website.accepted, website.purchased) == (
        "Website", 5, 4, 1, 3, 1)
    assert (badges.name, badges.leads, badges.sales_ready, badges.rejected, badges.purchased) == ("Trade-show badges", 3, 2, 0, 0)
    webinar, none = report.by_campaign
    assert (webinar.name, webinar.leads, webinar.sales_ready, webinar.acceptance, dict(webinar.won)) == (
        "spring-webinar", 5, 4, 0.75, {"EUR": Decimal("5000.00")})
    assert dict(webinar.cost) == {"EUR": Decimal("700.00")}  # half the webinar's two weeks
    assert (webinar.cost_per(webinar.leads), webinar.cost_per(webinar.sales_ready), webinar.cost_per(webinar.purchased)) == (
        (Decimal("140.00"), "EUR"), (Decimal("175.00"), "EUR"), (Decimal("700.00"), "EUR"))
    assert (none.name, none.leads, none.sales_ready, none.cost_per(none.leads)) == ("(no campaign)", 3, 2, None)
    total = report.total
    assert (total.leads, total.sales_ready, total.accepted, total.purchased) == (8, 6, 5, 1)
    assert report.rejected_by_reason == {"student": 1}
    assert (report.targets.sales_ready, report.targets.sales_ready_met(total)) == (5, True)
    assert (report.targets.acceptance_rate, report.targets.acceptance_met(total)) == (90, False)  # 5 of 6 is 83%
    month = marketing_report(period_parse("2026-11", "Europe/Berlin"))
    assert (month.targets.sales_ready, dict(month.total.cost)) == (21, {"EUR": Decimal("1400.00")})  # 5 a week for 30 days


def test_the_page_the_api_and_the_csv_show_the_same(week):
    with time_machine.travel(LATER, tick=False):
        page = browser(week["mia"]).get("/reports/marketing/?period=2026-W48")
        assert page.status_code == 200
        html = page.content.decode()
        assert re.search(r'id="target-sales-ready">\s*<h2>Sales-ready leads</h2>\s*<p><strong>6</strong> of a target of 5:\s*<strong>met</strong>', html)
        assert 'not met</strong>' in html.split('id="target-acceptance"')[1].split("</div>")[0]
        webinar = re.search(r'<th scope="row">spring-webinar</th>(.*?)</tr>', html, re.DOTALL)[1]
        assert '<td data-label="Per sales-ready">175.00 EUR</td>' in webinar
        assert "<li>A student: 1</li>" in html
        assert 'id="chart"' in html
        assert 'aria-current="page">Marketing</a>' in html
        assert ">Reconciliation</a>" not in html  # marketing reads its own report, not the reps' ledgers
        body = as_user(week["maria"]).get("/api/v1/reports/marketing?period=2026-W48").json()
        assert body["targets"] == {"sales_ready": 5, "sales_ready_met": True, "acceptance_rate": 90, "acceptance_met": False}
        assert body["total"]["cost_per_purchase"] == {"amount": "700.00", "currency": "EUR"}
        assert [row["key"] for row in body["by_campaign"]] == ["spring-webinar", ""]
        download = browser(week["admin"]).get("/reports/marketing/?period=2026-W48&format=csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert download["Content-Disposition"] == 'attachment; filename="marketing-every-team-2026-W48.csv"'
    assert [(row["group"], row["name"], row["sales_ready"], row["cost_EUR"], row["cost_per_lead"]) for row in rows] == [
        ("source", "Website", "4", "0.00", ""), ("source", "Trade-show badges", "2", "0.00", ""),
        ("campaign", "spring-webinar", "4", "700.00", "140.00 EUR"), ("campaign", "(no campaign)", "2", "0.00", ""),
        ("total", "Total", "6", "700.00", "87.50 EUR")]


def test_who_reads_it_and_who_sets_targets_and_costs(week):
    with time_machine.travel(LATER, tick=False):
        assert as_user(week["lena"]).get("/api/v1/reports/marketing").status_code == 403
        assert browser(week["lena"]).get("/reports/marketing/").status_code == 403
        refused = as_user(week["mia"]).put("/api/v1/marketing/targets", json.dumps({"acceptance_rate": 50}), content_type="application/json")
        assert refused.status_code == 403
        assert targets_now().acceptance_rate == 90
        assert as_user(week["maria"]).post("/api/v1/campaign-costs", json.dumps(
            {"campaign": "x", "first_day": "2026-11-01", "last_day": "2026-11-30", "amount": "10", "currency": "EUR"}),
            content_type="application/json").status_code == 403
        changed = as_user(week["admin"]).put("/api/v1/marketing/targets", json.dumps({"acceptance_rate": 75}), content_type="application/json")
        assert changed.json() == {"sales_ready_per_week": 5, "acceptance_rate": 75}
        page = browser(week["maria"]).get("/settings/marketing/")
        assert page.status_code == 403


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"campaign": " "}, "campaign", "is required: the campaign as leads carry it, e.g. spring-webinar"),
    ({"first_day": "30.11.2026"}, "first_day", "'30.11.2026' is not a date; write YYYY-MM-DD such as 2026-11-01"),
    ({"last_day": "2026-10-31"}, "last_day", "2026-10-31 is before the first day, 2026-11-01"),
    ({"amount": "-5"}, "amount", "must be a number more than 0, e.g. 2500.00"),
    ({"amount": "12.345"}, "amount", "has more than 2 decimal places; give it to the cent at most"),
    ({"amount": "lots"}, "amount", "'lots' is not an amount; write it like 2500.00"),
    ({"currency": "EURO"}, "currency", "'EURO' is not an ISO 4217 code such as EUR"),
    ({"first_day": "2026-W45-1"}, "first_day", "'2026-W45-1' is not a date; write YYYY-MM-DD such as 2026-11-01"),
    ({"first_day": "20261101"}, "first_day", "'20261101' is not a date; write YYYY-MM-DD such as 2026-11-01"),
    ({"first_day": "0001-01-01"}, "first_day", "0001-01-01 is outside the years 2000 to 2199, which reports cover"),
    ({"last_day": "2028-11-02"}, "last_day", "the days run over 2 years; enter a long campaign's cost per year or month"),
])
def test_a_cost_that_cannot_be_used_is_named_and_kept_on_the_page(week, values, field, message):
    typed = {"campaign": "autumn-fair", "first_day": "2026-11-01", "last_day": "2026-11-30", "amount": "2500", "currency": "EUR", "note": ""} | values
    answer = as_user(week["mia"]).post("/api/v1/campaign-costs", json.dumps(typed), content_type="application/json")
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": field, "message": message}]
    page = browser(week["mia"]).post("/settings/marketing/costs/", typed)
    assert page.status_code == 400
    html = page.content.decode()
    assert f'<p class="error" id="cost-{field}-error">{message.replace(chr(39), "&#x27;")}</p>' in html
    assert re.search(rf'name="{field}"[^>]* value="{re.escape(escape(typed[field].strip()))}"', html), "what was typed stays"
    assert 'value="autumn-fair"' in html or field == "campaign"


def test_a_cost_is_entered_listed_and_deleted_on_the_page(week):
    client = browser(week["mia"])
    answer = client.post("/settings/marketing/costs/", {"campaign": "autumn-fair", "first_day": "2026-11-01", "last_day": "2026-11-30",
                                                        "amount": "2,500.00", "currency": "usd", "note": "booth"})
    assert answer.status_code == 302
    listed = client.get("/settings/marketing/").content.decode()
    assert "autumn-fair" in listed
    assert "2500.00 USD" in listed
    cost_id = next(cost["id"] for cost in as_user(week["mia"]).get("/api/v1/campaign-costs?period=2026-11").json() if cost["campaign"] == "autumn-fair")
    assert client.post(f"/settings/marketing/costs/{cost_id}/drop/").status_code == 302
    assert [cost["campaign"] for cost in as_user(week["mia"]).get("/api/v1/campaign-costs").json()] == ["spring-webinar"]
    assert as_user(week["mia"]).delete(f"/api/v1/campaign-costs/{cost_id}").status_code == 404


def test_targets_on_the_page_name_everything_wrong_at_once(week):
    page = browser(week["admin"]).post("/settings/marketing/targets/", {"sales_ready_per_week": "lots", "acceptance_rate": "120"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "&#x27;lots&#x27; is not a whole number; 0 for no target" in html
    assert "120 is not a percent from 0 (no target) to 100" in html
    assert 'value="lots"' in html
    assert browser(week["admin"]).post("/settings/marketing/targets/", {"sales_ready_per_week": "²"}).status_code == 400
    assert browser(week["admin"]).post("/settings/marketing/targets/", {"sales_ready_per_week": "9" * 5000}).status_code == 400
    truthy = as_user(week["admin"]).put("/api/v1/marketing/targets", json.dumps({"acceptance_rate": True}), content_type="application/json")
    assert truthy.status_code == 422
    assert targets_now().acceptance_rate == 90
    assert browser(week["admin"]).post("/settings/marketing/targets/", {"sales_ready_per_week": "30", "acceptance_rate": "85"}).status_code == 302
    assert (targets_now().sales_ready_per_week, targets_now().acceptance_rate) == (30, 85)


def test_the_organisation_file_sets_the_targets_and_names_what_is_wrong():
    assert orgfile_parse("marketing:\n  sales_ready_per_week: 25\n").marketing.sales_ready_per_week == 25
    with pytest.raises(OrgFileError) as raised:
        orgfile_parse("marketing:\n  sales_ready_per_week: many\n  acceptance_rate: 120\n  budget: 5\n")
    assert raised.value.errors == [
        "marketing.budget: is not a key of marketing; use sales_ready_per_week, acceptance_rate",
        'marketing.sales_ready_per_week: "many" is not a whole number; write the sales-ready leads a week marketing promises, 0 for no target',
        "marketing.acceptance_rate: 120 is more than 100; write the percent of them sales accepts, 0 to 100 (0 for no target)",
    ]


def test_a_lead_stays_with_the_campaign_it_came_with(week, web_form):
    """Someone of the autumn fair writes again in W49 from the spring webinar's page: W48 is as it was."""
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        post(web_form, email="fair@northwind.example", title="Director", campaign="autumn-fair")
    before = {row.key: row.leads for row in marketing_report(W48).by_campaign}
    with time_machine.travel(MONDAY + timedelta(days=8), tick=False):
        post(web_form, email="fair@northwind.example", title="Director", campaign="spring-webinar")
    after = {row.key: row.leads for row in marketing_report(W48).by_campaign}
    assert after == before
    assert after["autumn-fair"] == 1


def test_a_rejection_after_the_lead_came_back_counts_against_its_new_hand_over(week, web_form):
    """Ben is sales-ready in W48 and not interested, not now; nurtured again in W49, he qualifies once more and is
    rejected: W48's hand-over was accepted, W49's is not."""
    lena = week["lena"]
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False) as traveller:
        ben = post(web_form, email="ben@northwind.example", title="Director")
        traveller.shift(timedelta(minutes=5))
        activity_log(lead_id=ben["id"], by=lena, kind="call", result="connected", note="", now=clock.now())
        outcome_record(lead_id=ben["id"], by=lena, outcome="not_interested", reason="next year", recycle_after_days=1, now=clock.now())
        traveller.move_to(MONDAY + timedelta(days=7, hours=2))
        Worker(poll_seconds=0).tick()  # back to nurture
        again = post(web_form, email="ben@northwind.example", title="Director of Sales")
        assert (again["id"], again["owner"]["id"]) == (ben["id"], lena.pk)
        traveller.shift(timedelta(minutes=5))
        lead_reject(lead_id=ben["id"], by=lena, reason="wrong_person", now=clock.now())
    w48 = marketing_report(W48)
    assert (w48.total.sales_ready, w48.total.rejected, w48.rejected_by_reason) == (7, 1, {"student": 1})
    w49 = marketing_report(period_parse("2026-W49", "Europe/Berlin"))
    assert (w49.total.sales_ready, w49.total.rejected, w49.rejected_by_reason) == (1, 1, {"wrong_person": 1})


def test_a_target_met_exactly_is_met():
    targets = Targets(sales_ready=None, acceptance_rate=58)
    assert targets.acceptance_met(MarketingRow("", "Total", sales_ready=50, rejected=21)) is True  # 29 of 50 is 58%
    assert targets.acceptance_met(MarketingRow("", "Total", sales_ready=50, rejected=22)) is False
    assert targets.acceptance_met(MarketingRow("", "Total")) is None


def test_a_lead_that_came_from_a_tracked_link_counts_for_its_utm_campaign(web_form):
    """A form that passes on only the link's utm_campaign still puts the lead in that campaign; a later inquiry from
    another campaign does not move it, and the lead's card names the campaign once."""
    emea_with("Lena Rep")
    with time_machine.travel(MONDAY, tick=False) as traveller:
        first = post(web_form, email="dana@northwind.example", utm_source="google", utm_campaign="q4-forecasting")
        post(web_form, email="erik@northwind.example", campaign="spring-webinar", utm_campaign="q4-forecasting")
        traveller.shift(timedelta(hours=1))
        again = post(web_form, email="dana@northwind.example", utm_campaign="winter-retargeting")
    assert again["id"] == first["id"]
    report = marketing_report(W48)
    assert {row.key: row.leads for row in report.by_campaign} == {"q4-forecasting": 1, "spring-webinar": 1}
    lead = as_user(person("Ada Admin", Role.ADMIN)).get(f"/api/v1/leads/{first['id']}").json()
    assert lead["campaign"] == "winter-retargeting"
    assert list(Inquiry.objects.filter(lead_id=first["id"]).order_by("id").values_list("campaign", "utm_campaign")) == [
        ("", "q4-forecasting"), ("", "winter-retargeting")]  # each inquiry as it was sent
    card = card_text(card_for(Lead.objects.get(pk=first["id"])))
    assert "From: website, winter-retargeting\n" in card  # the campaign once, not again as the link's tracking

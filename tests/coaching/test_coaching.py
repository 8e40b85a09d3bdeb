"""Weekly coaching (P6): a manager sets 1 to 4 focus items per rep and week; the next week's review records what the rep
did on each; a rep reads their own history, nobody else's."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from leadbaton.accounts.models import Role, Team
from leadbaton.coaching.models import FocusItem
from leadbaton.core import clock
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed
from leadbaton.pipeline.coaching import focus_review, focus_set
from tests.api.test_rep_api import as_user, person, rep
from tests.reports.test_reconciliation import EVERY_DAY
from tests.reports.test_reconciliation_pages import browser

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 2026-W48 in Berlin
NEXT_MONDAY = MONDAY + timedelta(days=7)


@pytest.fixture
def team(db):
    maria = person("Maria Manager", Role.MANAGER)
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=maria, is_default=True)
    frank = person("Frank Manager", Role.MANAGER)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="America/New_York", manager=frank)
    return {"maria": maria, "frank": frank, "lena": rep("Lena Rep", emea, hours=EVERY_DAY), "jonas": rep("Jonas Berg", emea, hours=EVERY_DAY),
            "jordan": rep("Jordan Rep", amer, hours=EVERY_DAY), "admin": person("Ada Admin", Role.ADMIN), "mia": person("Mia Marketer", Role.MARKETING)}


def test_a_week_of_focus_is_reviewed_the_next_week_and_kept_in_the_history(team):
    lena, maria = team["lena"], team["maria"]
    with time_machine.travel(MONDAY, tick=False):
        focus_set(by=maria, rep_id=lena.pk, week="", items=["Call every new lead within 5 minutes", "Log a next step on every call",
                                                              "Three attempts before giving up", ""], now=clock.now())
    assert [(item.week.isoformat(), item.position, item.text) for item in FocusItem.objects.order_by("position")] == [
        ("2026-11-23", 1, "Call every new lead within 5 minutes"), ("2026-11-23", 2, "Log a next step on every call"),
        ("2026-11-23", 3, "Three attempts before giving up")]
    with time_machine.travel(NEXT_MONDAY, tick=False):
        page = browser(maria).get(f"/coaching/{lena.pk}/").content.decode()
        assert "Review of 2026-W48" in page
        assert "<legend>1. Call every new lead within 5 minutes</legend>" in page
        answer = browser(maria).post(f"/coaching/{lena.pk}/review/", {"week": "2026-W49", "outcome-1": "done", "note-1": "4 min on average",
                                                                     "outcome-2": "partly", "outcome-3": "not_done", "note-3": "trade show week"})
        assert answer.status_code == 302
        focus_set(by=maria, rep_id=lena.pk, week="2026-W49", items=["Ask every lead for a budget"], now=clock.now())
        own = browser(lena).get(f"/coaching/{lena.pk}/?week=2026-W50").content.decode()
    assert "Ask every lead for a budget" in own
    assert "Call every new lead within 5 minutes — <strong>Done</strong>: 4 min on average" in own
    assert "Three attempts before giving up — <strong>Not done</strong>: trade show week" in own
    assert "Save the focus" not in own  # a rep reads it
    with pytest.raises(Conflict):  # a reviewed week keeps the focus it was reviewed on
        focus_set(by=maria, rep_id=lena.pk, week="2026-W48", items=["Something else"], now=NEXT_MONDAY)


def test_a_rep_reads_their_own_and_a_manager_coaches_their_teams_only(team):
    lena, jonas, jordan = team["lena"], team["jonas"], team["jordan"]
    with time_machine.travel(MONDAY, tick=False):
        assert browser(lena).get(f"/coaching/{jonas.pk}/").status_code == 403
        assert browser(lena).get("/coaching/").status_code == 302
        assert browser(team["frank"]).get(f"/coaching/{lena.pk}/").status_code == 403
        assert browser(team["mia"]).get(f"/coaching/{lena.pk}/").status_code == 403
        assert browser(team["mia"]).get("/coaching/").status_code == 403
        home = browser(team["maria"]).get("/coaching/").content.decode()
        assert "Lena Rep" in home
        assert "Jordan Rep" not in home
        assert browser(team["admin"]).get(f"/coaching/{jordan.pk}/").status_code == 200
        with pytest.raises(NotAllowed):
            focus_set(by=lena, rep_id=lena.pk, week="", items=["Sell more"], now=clock.now())
        assert as_user(lena).get(f"/api/v1/coaching/{jonas.pk}").status_code == 403
        assert [week["week"] for week in as_user(lena).get(f"/api/v1/coaching/{lena.pk}").json()["weeks"]] == []


@pytest.mark.parametrize(("items", "field", "message"), [
    (["", "", "", ""], "items", "give 1 to 4 focus items, such as 'call every new lead within 5 minutes'"),
    (["One", "", "Three"], "items[2]", "is empty; write it, or leave out the ones after it"),
    (["x" * 301], "items[1]", "is 301 characters; at most 300"),
    (["a", "b", "c", "d", "e"], "items", "5 focus items; at most 4, so each gets attention"),
])
def test_focus_that_cannot_be_used_is_named(team, items, field, message):
    with pytest.raises(Invalid) as refused:
        focus_set(by=team["maria"], rep_id=team["lena"].pk, week="2026-W48", items=items, now=MONDAY)
    assert refused.value.errors[0] == {"field": field, "message": message}


def test_the_page_keeps_what_was_typed_and_names_each_problem(team):
    lena, maria = team["lena"], team["maria"]
    with time_machine.travel(MONDAY, tick=False):
        page = browser(maria).post(f"/coaching/{lena.pk}/focus/", {"week": "2026-W48", "item-1": "Call fast", "item-2": "", "item-3": "Log notes"})
        assert page.status_code == 400
        html = page.content.decode()
        assert '<p class="error" id="item-2-error">is empty; write it, or leave out the ones after it</p>' in html
        assert 'value="Log notes"' in html
        focus_set(by=maria, rep_id=lena.pk, week="2026-W48", items=["Call fast"], now=clock.now())
    with time_machine.travel(NEXT_MONDAY, tick=False):
        review = browser(maria).post(f"/coaching/{lena.pk}/review/", {"week": "2026-W49", "outcome-1": "mostly", "note-1": "kept"})
        assert review.status_code == 400
        assert "&#x27;mostly&#x27; is not an outcome; use one of done, partly, not_done" in review.content.decode()
        assert 'value="kept"' in review.content.decode()
        with pytest.raises(Invalid, match="no focus items were set for the week of 2026-11-30"):
            focus_review(by=maria, rep_id=lena.pk, week="2026-W49", reviews=[], now=clock.now())
        wrong_week = browser(maria).get(f"/coaching/{lena.pk}/?week=soon")
        assert wrong_week.status_code == 400
        assert "error-week" in wrong_week.content.decode()


def test_the_api_gives_the_history_and_sets_and_reviews_a_week(team):
    lena, maria = team["lena"], team["maria"]
    with time_machine.travel(MONDAY, tick=False):
        answer = as_user(maria).put(f"/api/v1/coaching/{lena.pk}/weeks/2026-W48/focus", json.dumps({"items": ["Call fast", "Log notes"]}),
                                    content_type="application/json")
        assert answer.status_code == 200, answer.json()
        assert [item["text"] for item in answer.json()["items"]] == ["Call fast", "Log notes"]
    with time_machine.travel(NEXT_MONDAY, tick=False):
        reviewed = as_user(maria).put(f"/api/v1/coaching/{lena.pk}/weeks/2026-W48/review", json.dumps(
            {"reviews": [{"position": 1, "outcome": "done"}, {"position": 2, "outcome": "partly", "note": "most calls"}]}),
            content_type="application/json")
        assert reviewed.status_code == 200, reviewed.json()
        history = as_user(lena).get(f"/api/v1/coaching/{lena.pk}").json()
    assert history["rep"]["name"] == "Lena Rep"
    assert [(week["week"], [(item["text"], item["outcome"]) for item in week["items"]]) for week in history["weeks"]] == [
        ("2026-W48", [("Call fast", "done"), ("Log notes", "partly")])]
    refused = as_user(maria).put(f"/api/v1/coaching/{lena.pk}/weeks/2026-W48/focus", json.dumps({"items": ["Other"]}),
                                 content_type="application/json")
    assert refused.status_code == 409


def test_what_cannot_be_done_is_refused_by_name(team):
    lena, maria = team["lena"], team["maria"]
    assert browser(maria).get("/coaching/99999999999999999999999/").status_code == 404
    with time_machine.travel(MONDAY, tick=False):
        focus_set(by=maria, rep_id=lena.pk, week="", items=["Call fast", "Log notes"], now=clock.now())
        early = as_user(maria).put(f"/api/v1/coaching/{lena.pk}/weeks/2026-W50/review", json.dumps({"reviews": [{"position": 1, "outcome": "done"}]}),
                                   content_type="application/json")
        assert early.status_code == 422
        assert early.json()["errors"] == [{"field": "week", "message": "the week of 2026-12-07 has not begun; review it once it has"}]
        twice = as_user(maria).put(f"/api/v1/coaching/{lena.pk}/weeks/2026-W48/review", json.dumps(
            {"reviews": [{"position": 1, "outcome": "partly"}, {"position": 1, "outcome": "done"}, {"position": 2, "outcome": "done"}]}),
            content_type="application/json")
        assert twice.status_code == 422
        assert twice.json()["errors"] == [{"field": "outcome[1]", "message": "is given twice; give each focus item one outcome"}]
        month = as_user(maria).put(f"/api/v1/coaching/{lena.pk}/weeks/2026-11/focus", json.dumps({"items": ["x"]}), content_type="application/json")
        assert month.json()["errors"] == [{"field": "week", "message": "'2026-11' is not an ISO week; give one such as 2026-W49"}]
        lena.is_active = False
        lena.save()
        gone = as_user(maria).put(f"/api/v1/coaching/{lena.pk}/weeks/2026-W48/focus", json.dumps({"items": ["x"]}), content_type="application/json")
        assert gone.status_code == 409


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_saving_one_new_week_at_once_take_turns(org):
    """Maria and Ada save Alice's first focus for a week at the same moment: both are saved, one after the other."""
    start = threading.Barrier(2)
    answers: list[object] = []

    def save(by, text):
        try:
            start.wait(10)
            answers.append(focus_set(by=by, rep_id=org.alice.pk, week="2026-W48", items=[text], now=MONDAY))
        except Exception as error:  # what a failed save raised is the answer under test
            answers.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(by, text)) for by, text in ((org.manager, "Call fast"), (org.admin, "Log notes"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(isinstance(answer, list) for answer in answers), answers
    assert FocusItem.objects.filter(rep=org.alice).count() == 1

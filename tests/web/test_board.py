"""The manager's team board: each rep's counts and availability, pausing, the queue with hand assignment, reassignment
with a reason, the clocks that ran out today, and search; and a rep taking a lead from their team's queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import RepProfile, User
from leadbaton.core import clock
from leadbaton.leads.models import Handoff, Lead
from leadbaton.sla.models import Deadline
from tests.api import test_rep_api
from tests.api.test_rep_api import as_user, in_progress, lead_to, lena_only, touch
from tests.web import test_accounts

sales, morning = test_rep_api.sales, test_rep_api.morning
mailbox = test_accounts.mailbox


def page_of(user: User, path: str) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    answer = client.get(path)
    return answer.status_code, answer.content.decode()


def post_as(user: User, path: str, data: dict[str, str]) -> tuple[int, str, str]:
    """Status, page and where it redirects to (or "")."""
    client = Client()
    client.force_login(user)
    answer = client.post(path, data)
    return answer.status_code, answer.content.decode(), answer.get("Location", "")


def rep_row(page: str, user: User) -> str:
    return page.split(f'<tr id="rep-{user.pk}">', 1)[1].split("</tr>", 1)[0]


def lead_row(page: str, lead_id: int, section: str) -> str:
    """A lead's row in the queue ("queue") or in the search results and a rep's leads ("found")."""
    return page.split(f'<tr id="{section}-lead-{lead_id}">', 1)[1].split("</tr>", 1)[0]


def numbers(row: str) -> list[str]:
    """The counts of a rep's row, in the table's order (open, untouched, due today, overdue, stale)."""
    return re.findall(r'aria-label="(\d+) ', row)


def queued_lead(intake, email: str, **extra) -> int:
    answer = intake.post({"email": email, **extra})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["stage"] == "queued", answer.json()
    return answer.json()["id"]


@pytest.fixture
def emea(intake, sales, morning):
    """At 12:01 in Berlin: Lena has an untouched lead whose clock ran out, a fresh one, and one in progress
    whose next step has passed; Jonas is paused for training; Lena is then paused too and one lead waits in the queue."""
    lena_only(sales)
    lena = as_user(sales.lena)
    ids = {}
    ids["breached"] = lead_to(intake, sales.lena, "olga@oldco.example", first_name="Olga", last_name="Orlova", company="Oldco",
                              phone="+49 30 1234567")
    Deadline.objects.filter(lead_id=ids["breached"]).update(status="breached", breached_at=clock.now())
    ids["fresh"] = lead_to(intake, sales.lena, "finn@fresh.example", first_name="Finn", company="Studio 3000")
    ids["overdue"] = lead_to(intake, sales.lena, "otto@overdue.example", first_name="Otto")
    assert touch(lena, ids["overdue"]).status_code == 201
    assert in_progress(lena, ids["overdue"], clock.now() + timedelta(minutes=30), blocker="budget").status_code == 200
    morning.shift(timedelta(hours=1))
    RepProfile.objects.filter(user=sales.lena).update(paused=True, pause_reason="lunch")
    ids["queued"] = queued_lead(intake, "quinn@queue.example", first_name="Quinn", company="Queueco")
    RepProfile.objects.filter(user=sales.lena).update(paused=False, pause_reason="")
    return ids


def test_the_board_counts_each_reps_leads_as_their_inbox_does_and_says_who_gets_new_leads_and_why_not(emea, sales):
    status, page = page_of(sales.maria, "/teams/emea/")
    assert status == 200
    lena = rep_row(page, sales.lena)
    assert "Lena Rep" in lena
    assert numbers(lena) == ["3", "2", "3", "2", "0"]  # open, untouched, due today, overdue (breach + next step), stale
    assert "yes" in lena
    assert ">3</td>" in lena.replace(" ", "")  # three new leads today, no cap
    jonas = rep_row(page, sales.jonas)
    assert numbers(jonas) == ["0", "0", "0", "0", "0"]
    assert "paused (training)" in jonas
    assert "Resume" in jonas
    # The same counts as Lena's inbox views.
    for view, count in (("untouched", 2), ("overdue", 2), ("due_today", 3)):
        _, inbox = page_of(sales.lena, f"/?show={view}")
        assert len(re.findall(r'<tr data-lead-id="', inbox)) == count, view
    queue = page.split('<section id="queue"', 1)[1].split("</section>", 1)[0]
    assert "Quinn" in queue
    assert "Queueco" in queue
    breached = page.split('<section id="breached"', 1)[1].split("</section>", 1)[0]
    assert "Olga Orlova" in breached
    assert "First response" in breached
    assert "Lena Rep" in breached


def test_a_count_opens_the_reps_leads_in_that_view(emea, sales):
    status, page = page_of(sales.maria, f"/teams/emea/?rep={sales.lena.pk}&show=overdue")
    assert status == 200
    listed = page.split('<section id="leads"', 1)[1]
    assert "Lena Rep's leads: overdue" in listed
    assert [int(n) for n in re.findall(r'<tr id="found-lead-(\d+)">', listed)] == [emea["breached"], emea["overdue"]]


@pytest.mark.parametrize(("query", "found"), [
    ("olga", "breached"), ("Orlova", "breached"), ("oldco", "breached"), ("030 1234567", "breached"), ("1234567", "breached"),
    ("finn@fresh", "fresh"), ("Quinn Queueco", "queued"), ("+49 (0)30 1234567", "breached"), ("3000", "fresh"),
])
def test_every_lead_of_the_team_is_found_by_name_email_phone_or_company(emea, sales, query, found):
    status, page = page_of(sales.maria, f"/teams/emea/?q={query}")
    assert status == 200
    listed = page.split('<section id="leads"', 1)[1]
    assert [int(n) for n in re.findall(r'<tr id="found-lead-(\d+)">', listed)] == [emea[found]]


def test_a_search_finds_nothing_of_another_team(emea, intake, sales):
    lead_to(intake, sales.jordan, "olga@usa.example", first_name="Olga", country="US")
    _, page = page_of(sales.maria, "/teams/emea/?q=olga")
    listed = page.split('<section id="leads"', 1)[1]
    assert [int(n) for n in re.findall(r'<tr id="found-lead-(\d+)">', listed)] == [emea["breached"]]


def test_unknown_views_and_reps_are_named_and_the_board_still_shows(emea, sales):
    status, page = page_of(sales.maria, f"/teams/emea/?rep={sales.jordan.pk}&show=someday")
    assert status == 400
    assert "&#x27;someday&#x27; is not a view; use one of untouched, due_today, overdue, stale" in page
    assert f"&#x27;{sales.jordan.pk}&#x27; is not a rep of EMEA" in page
    assert "Lena Rep" in page


@pytest.mark.parametrize(("who", "path", "status"), [
    ("lena", "/teams/emea/", 403), ("mark", "/teams/emea/", 403), ("frank", "/teams/emea/", 403), ("maria", "/teams/amer/", 403),
    ("maria", "/teams/nowhere/", 404), ("ada", "/teams/amer/", 200), ("frank", "/teams/amer/", 200),
])
def test_only_the_teams_manager_and_admins_open_its_board(sales, who, path, status):
    answer, page = page_of(getattr(sales, who), path)
    assert answer == status
    if status == 403:
        assert "Jonas Berg" not in page
        assert "Jordan Rep" not in page


def test_the_boards_list_leads_a_manager_straight_to_their_team_and_shows_an_admin_every_team(sales):
    client = Client()
    client.force_login(sales.maria)
    assert client.get("/teams/")["Location"] == "/teams/emea/"
    status, page = page_of(sales.ada, "/teams/")
    assert status == 200
    assert page.index("Americas") < page.index("EMEA")
    assert page_of(sales.lena, "/teams/")[0] == 403
    assert "Team board" in page_of(sales.maria, "/")[1]
    assert "Team board" not in page_of(sales.lena, "/")[1]


def test_pausing_needs_a_reason_said_next_to_the_field_and_resuming_lets_the_rep_take_leads_again(emea, sales):
    status, page, _ = post_as(sales.maria, f"/reps/{sales.lena.pk}/pause/", {"team": "emea", "reason": "  "})
    assert status == 400
    assert "is required: say why the rep takes no new leads" in rep_row(page, sales.lena)
    assert 'aria-invalid="true"' in rep_row(page, sales.lena)
    status, _, where = post_as(sales.maria, f"/reps/{sales.lena.pk}/pause/", {"team": "emea", "reason": "training"})
    assert (status, where) == (302, "/teams/emea/")
    assert RepProfile.objects.get(user=sales.lena).pause_reason == "training"
    _, page = page_of(sales.maria, "/teams/emea/")
    assert "paused (training)" in rep_row(page, sales.lena)
    status, _, where = post_as(sales.maria, f"/reps/{sales.jonas.pk}/resume/", {"team": "emea"})
    assert (status, where) == (302, "/teams/emea/")
    assert not RepProfile.objects.get(user=sales.jonas).paused


def test_a_manager_of_another_team_cannot_pause_its_reps_nor_learn_who_they_are(emea, sales):
    status, page, _ = post_as(sales.frank, f"/reps/{sales.lena.pk}/pause/", {"team": "emea", "reason": "training"})
    assert status == 404
    assert not RepProfile.objects.get(user=sales.lena).paused
    _, nobody, _ = post_as(sales.frank, "/reps/999999/pause/", {"team": "emea", "reason": "training"})
    assert _without_csrf(page).replace(f"rep {sales.lena.pk} ", "rep N ") == _without_csrf(nobody).replace("rep 999999 ", "rep N ")
    assert "Lena" not in page
    assert "EMEA" not in page


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def test_a_rep_who_is_also_named_a_teams_manager_does_not_get_its_board(emea, sales):
    sales.emea.manager = sales.jonas
    sales.emea.save()
    status, page = page_of(sales.jonas, "/teams/emea/?q=olga")
    assert status == 403
    assert "Olga" not in page


def test_due_today_is_counted_by_each_reps_own_day_as_their_inbox_has_it(emea, sales):
    lena = as_user(sales.lena)
    RepProfile.objects.filter(user=sales.lena).update(time_zone="America/Los_Angeles", hours=test_rep_api.ALL_DAY)
    late = in_progress(lena, emea["overdue"], clock.now() + timedelta(hours=17), blocker="budget")  # 20:01 in Los Angeles, tomorrow in Berlin
    assert late.status_code == 200
    _, inbox = page_of(sales.lena, "/?show=due_today")
    _, board = page_of(sales.maria, "/teams/emea/")
    assert numbers(rep_row(board, sales.lena))[2] == str(len(re.findall(r'<tr data-lead-id="', inbox))) == "3"


def test_a_clock_that_ran_out_on_a_lead_now_in_another_team_is_not_shown_to_this_teams_manager(emea, sales):
    moved = Lead.objects.get(pk=emea["breached"])
    moved.owner_kind, moved.owner_team, moved.owner_rep, moved.stage = "team", sales.amer, None, "queued"
    moved.save()
    _, page = page_of(sales.maria, "/teams/emea/")
    assert "Olga" not in page.split('<section id="breached"', 1)[1].split("</section>", 1)[0]
    _, page = page_of(sales.ada, "/teams/emea/")
    assert "Olga" in page.split('<section id="breached"', 1)[1].split("</section>", 1)[0]


def pick(lead_id: int) -> str:
    """A lead's checkbox value on the board: its id and the owner the board showed."""
    return f"{lead_id}@{Lead.objects.get(pk=lead_id).owner_key}"


def test_the_manager_hands_a_queued_lead_to_a_rep_with_a_reason_kept_in_the_ledger(emea, sales):
    move = {"section": "queue", "lead": pick(emea["queued"]), "to": f"rep:{sales.jonas.pk}"}
    status, page, _ = post_as(sales.maria, "/teams/emea/move/", {**move, "reason": ""})
    assert status == 400
    form = page.split('<form id="queue-move"', 1)[1].split("</form>", 1)[0]
    assert "is required: say why the leads change hands" in form
    assert f'<option value="rep:{sales.jonas.pk}" selected>' in form  # what was chosen is kept
    assert re.search(rf'value="{re.escape(move["lead"])}" form="queue-move" aria-label="[^"]*" checked', page)  # and what was checked
    status, _, where = post_as(sales.maria, "/teams/emea/move/", {**move, "reason": "Jonas knows Queueco"})
    assert (status, where) == (302, "/teams/emea/")
    lead = Lead.objects.get(pk=emea["queued"])
    assert (lead.owner_rep_id, lead.stage) == (sales.jonas.pk, "assigned")
    handoff = Handoff.objects.filter(lead=lead).latest("id")
    assert (handoff.note, handoff.by_user_id) == ("Jonas knows Queueco", sales.maria.pk)
    assert Deadline.objects.filter(lead=lead, rep=sales.jonas, status="pending").exists()


def test_the_checked_leads_of_a_rep_move_together_and_one_that_changed_hands_meanwhile_stays(emea, sales):
    lenas = [emea["fresh"], emea["overdue"], emea["breached"]]
    checked = [pick(lead_id) for lead_id in lenas]
    Lead.objects.filter(pk=emea["breached"]).update(owner_rep=sales.jonas)  # moved by someone else after the board was shown
    client = Client()
    client.force_login(sales.maria)
    answer = client.post("/teams/emea/move/", {"section": "found", "rep": str(sales.lena.pk), "lead": checked,
                                               "to": f"team:{sales.emea.pk}", "reason": "Lena is off sick"}, follow=True)
    assert answer.redirect_chain == [(f"/teams/emea/?rep={sales.lena.pk}", 302)]
    said = answer.content.decode()
    assert "Now with the team queue: Finn, Otto." in said
    assert f"Not moved: lead {emea['breached']}: the lead changed hands a moment ago: it is now with Jonas Berg" in said
    assert list(Lead.objects.filter(pk__in=lenas).order_by("pk").values_list("stage", flat=True)) == ["assigned", "queued", "queued"]


def test_a_target_nobody_may_give_leads_to_is_said_next_to_the_form_however_many_leads_are_checked(emea, sales):
    checked = [pick(emea["fresh"]), pick(emea["overdue"])]
    status, page, _ = post_as(sales.maria, "/teams/emea/move/", {"section": "found", "q": "example", "lead": checked,
                                                                 "to": f"rep:{sales.jordan.pk}", "reason": "Americas"})
    assert status == 400
    form = page.split('<form id="found-move"', 1)[1].split("</form>", 1)[0]
    assert f"user {sales.jordan.pk} is not an active rep of a team you manage" in form
    assert Lead.objects.get(pk=emea["fresh"]).owner_rep_id == sales.lena.pk


def test_the_move_form_sent_twice_says_the_leads_are_already_there_not_that_they_changed_hands(emea, sales):
    move = {"section": "found", "q": "finn", "lead": pick(emea["fresh"]), "to": f"rep:{sales.jonas.pk}", "reason": "coverage"}
    client = Client()
    client.force_login(sales.maria)
    client.post("/teams/emea/move/", move)
    said = client.post("/teams/emea/move/", move, follow=True).content.decode()
    assert "Already there: 1 lead." in said
    assert "changed hands" not in said


def test_a_lead_found_by_search_is_moved_back_to_the_queue_and_the_board_keeps_the_search(emea, sales):
    status, _, where = post_as(sales.maria, "/teams/emea/move/", {"section": "found", "lead": pick(emea["fresh"]),
                                                                  "to": f"team:{sales.emea.pk}", "reason": "Lena is off sick", "q": "finn"})
    assert (status, where) == (302, "/teams/emea/?q=finn")
    assert Lead.objects.get(pk=emea["fresh"]).stage == "queued"


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"to": "", "reason": "why not"}, "to", "choose the rep who takes the leads, or the team&#x27;s queue"),
    ({"lead": "", "reason": "why not"}, "lead", "check the leads to move first"),
])
def test_a_move_with_something_missing_says_what_next_to_the_form_and_keeps_the_rest(emea, sales, form, field, message):
    data = {"section": "found", "q": "finn", "lead": pick(emea["fresh"]), "to": f"team:{sales.emea.pk}", **form}
    if not data["lead"]:
        del data["lead"]
    status, page, _ = post_as(sales.maria, "/teams/emea/move/", data)
    assert status == 400
    found = page.split('<form id="found-move"', 1)[1].split("</form>", 1)[0]
    assert message in found
    assert 'value="why not"' in found


def test_another_teams_lead_cannot_be_moved_and_says_nothing_of_itself(emea, sales):
    status, page, _ = post_as(sales.frank, "/teams/amer/move/", {"section": "found", "lead": pick(emea["fresh"]),
                                                                 "to": f"rep:{sales.jordan.pk}", "reason": "mine"})
    assert status == 404
    assert "Lena" not in page
    assert "Finn" not in page
    assert Lead.objects.get(pk=emea["fresh"]).owner_rep_id == sales.lena.pk
    assert post_as(sales.frank, "/teams/emea/move/", {"section": "found", "lead": pick(emea["fresh"]), "to": "x", "reason": "y"})[0] == 403


def test_a_queued_lead_that_changed_hands_meanwhile_is_not_taken_from_its_new_owner(emea, sales):
    checked = pick(emea["queued"])
    assert post_as(sales.lena, f"/leads/{emea['queued']}/take/", {})[0] == 302
    client = Client()
    client.force_login(sales.maria)
    answer = client.post("/teams/emea/move/", {"section": "queue", "lead": checked, "to": f"rep:{sales.jonas.pk}",
                                               "reason": "Jonas knows them"}, follow=True)
    assert "the lead changed hands a moment ago: it is now with Lena Rep" in answer.content.decode()
    assert Lead.objects.get(pk=emea["queued"]).owner_rep_id == sales.lena.pk


def test_a_lead_whose_rep_moved_to_this_team_can_be_moved_by_its_manager(emea, sales):
    RepProfile.objects.filter(user=sales.lena).update(team=sales.amer)
    status, _, _ = post_as(sales.frank, "/teams/amer/move/", {"section": "found", "lead": pick(emea["fresh"]),
                                                              "to": f"rep:{sales.jordan.pk}", "reason": "Americas now"})
    assert status == 302
    assert Lead.objects.get(pk=emea["fresh"]).owner_rep_id == sales.jordan.pk


def test_a_lead_in_the_queue_and_in_a_search_is_checked_in_each_lists_own_form(emea, sales):
    _, page = page_of(sales.maria, "/teams/emea/?q=quinn")
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert 'form="queue-move"' in lead_row(page, emea["queued"], "queue")
    assert 'form="found-move"' in lead_row(page, emea["queued"], "found")


def test_the_queue_says_since_when_a_lead_waits_there_not_when_it_last_changed(emea, intake, sales, morning):
    _, before = page_of(sales.maria, "/teams/emea/")
    since = re.search(r'In the queue since.*?<time datetime="([^"]+)"', before, re.S).group(1)
    morning.shift(timedelta(hours=2))
    assert intake.post({"email": "quinn@queue.example", "message": "still there?"}).status_code == 200
    _, after = page_of(sales.maria, "/teams/emea/")
    row = lead_row(after, emea["queued"], "queue")
    assert f'datetime="{since}"' in row


def test_the_board_reads_the_same_number_of_queries_for_few_and_many_leads(emea, intake, sales, morning):
    client = Client()
    client.force_login(sales.maria)
    client.get("/teams/emea/?q=example")  # warm the configuration caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/teams/emea/?q=example&rep={sales.lena.pk}").status_code == 200
    for n in range(12):
        lead_to(intake, sales.lena, f"more{n}@buyer{n}.example", first_name=f"More{n}")
    Deadline.objects.filter(lead__email__startswith="more").update(status="breached", breached_at=clock.now())
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/teams/emea/?q=example&rep={sales.lena.pk}").status_code == 200
    assert len(many) == len(few), [query["sql"][:120] for query in many]


# Taking a lead from the queue: a rep of the team, when routing would give them one now.

def test_a_rep_takes_a_lead_from_their_teams_queue_and_its_clock_starts(emea, sales):
    _, inbox = page_of(sales.lena, "/")
    assert f'action="/leads/{emea["queued"]}/take/"' in inbox
    status, _, where = post_as(sales.lena, f"/leads/{emea['queued']}/take/", {})
    assert (status, where) == (302, f"/leads/{emea['queued']}/")
    lead = Lead.objects.get(pk=emea["queued"])
    assert (lead.owner_rep_id, lead.stage) == (sales.lena.pk, "assigned")
    handoff = Handoff.objects.filter(lead=lead).latest("id")
    assert (handoff.reason, handoff.by_user_id) == ("routed", sales.lena.pk)
    assert "taken from the team queue by Lena Rep" in handoff.note
    assert Deadline.objects.filter(lead=lead, rep=sales.lena, kind="first_response", status="pending").exists()
    assert RepProfile.objects.get(user=sales.lena).assigned_count == 4  # counted against her daily cap
    assert post_as(sales.jonas, f"/leads/{emea['queued']}/take/", {})[0] == 404  # no longer in his team's queue: Lena's lead now


def test_a_rep_who_may_not_get_a_lead_now_cannot_take_one_and_is_told_why(emea, sales):
    RepProfile.objects.filter(user=sales.lena).update(daily_cap=3)
    _, inbox = page_of(sales.lena, "/")
    assert "/take/" not in inbox
    status, page, _ = post_as(sales.lena, f"/leads/{emea['queued']}/take/", {})
    assert status == 409
    assert "You cannot take a new lead now: daily cap reached (3 of 3 new leads today)" in page
    assert Lead.objects.get(pk=emea["queued"]).stage == "queued"


def test_only_reps_of_the_team_take_from_its_queue(emea, sales):
    assert post_as(sales.jordan, f"/leads/{emea['queued']}/take/", {})[0] == 404
    assert post_as(sales.maria, f"/leads/{emea['queued']}/take/", {})[0] == 403
    assert post_as(sales.lena, f"/leads/{emea['fresh']}/take/", {})[0] == 409  # hers already, not in a queue
    assert Lead.objects.get(pk=emea["queued"]).stage == "queued"


def test_many_leads_moved_to_a_rep_at_once_are_one_email_not_one_each(emea, sales, mailbox):
    from leadbaton.notify.models import Notification, OutboxMessage
    from tests.web.test_accounts import deliver

    lenas = [emea["fresh"], emea["overdue"], emea["breached"]]
    OutboxMessage.objects.filter(channel="email").update(status="sent")  # what came before was delivered
    client = Client()
    client.force_login(sales.maria)
    client.post("/teams/emea/move/", {"section": "found", "rep": str(sales.lena.pk), "lead": [pick(lead_id) for lead_id in lenas],
                                      "to": f"rep:{sales.jonas.pk}", "reason": "Lena is off sick"})
    assert Notification.objects.filter(user=sales.jonas, event="lead.reassigned").count() == 3  # each in the app
    assert OutboxMessage.objects.filter(channel="email", recipient=sales.jonas.email).count() == 1
    deliver()
    mailbox.wait_for(1)
    [sent] = [message for message in mailbox.messages if message["To"] == sales.jonas.email]
    assert (sent["To"], sent["Subject"]) == (sales.jonas.email, "3 leads handed to you by Maria Manager: Lena is off sick")
    text = sent.get_payload()[0].get_payload(decode=True).decode()
    assert "Why: Lena is off sick" in text
    for lead_id in lenas:
        assert f"https://leads.lumen.example/leads/{lead_id}/" in text


def test_a_reason_with_a_line_break_makes_a_one_line_subject(emea, sales):
    from leadbaton.notify.models import OutboxMessage

    client = Client()
    client.force_login(sales.maria)
    client.post("/teams/emea/move/", {"section": "found", "rep": str(sales.lena.pk), "lead": [pick(emea["fresh"]), pick(emea["overdue"])],
                                      "to": f"rep:{sales.jonas.pk}", "reason": "cover\r\nBcc: evil@example.com"})
    [email] = OutboxMessage.objects.filter(channel="email", recipient=sales.jonas.email)
    assert email.payload["subject"] == "2 leads handed to you by Maria Manager: cover Bcc: evil@example.com"

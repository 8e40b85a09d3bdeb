"""Chat targets on the team and rep settings pages: a manager adds an apprise URL (shown by its service and host only,
never its token), the rep's news reaches it, and removes it; an URL apprise cannot read is said next to the field;
another team's targets are no targets."""

from __future__ import annotations

import json

from leadbaton.notify.models import ChatTarget
from tests.api import test_rep_api
from tests.api.test_rep_api import lead_to
from tests.api.test_webhooks_api import work
from tests.organisation.test_config_chat import SLACK
from tests.receivers import HttpReceiver
from tests.web.test_board import page_of, post_as
from tests.web.test_settings import post_and_follow

sales, morning = test_rep_api.sales, test_rep_api.morning


def test_a_manager_adds_a_teams_chat_shown_without_its_token_and_removes_it(sales):
    status, page = post_and_follow(sales.maria, "/settings/teams/emea/chat/", {"url": SLACK})
    assert status == 200
    assert "Chat target added" in page
    target = ChatTarget.objects.get(team=sales.emea)
    assert target.url == SLACK
    assert f"<code>{target.label}</code>" in page
    assert SLACK not in page
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in page
    status, page = post_and_follow(sales.maria, f"/settings/chat/{target.pk}/remove/", {})
    assert status == 200
    assert f"Nothing more goes to {target.label}." in page
    assert not ChatTarget.objects.get(pk=target.pk).active


def test_a_reps_chat_hears_of_their_new_lead(intake, sales, morning):
    with HttpReceiver() as receiver:
        status, _, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/chat/", {"url": f"json://127.0.0.1:{receiver.port}/chat"})
        assert status == 302
        lead_to(intake, sales.lena, "dana@northwind.example", first_name="Dana")
        work()
    [request] = receiver.requests
    assert json.loads(request.body)["title"] == "New lead for you: Dana"


def test_a_url_apprise_cannot_read_is_said_next_to_the_field_and_kept(sales):
    status, page, _ = post_as(sales.maria, "/settings/teams/emea/chat/", {"url": "carrier-pigeon://loft/7"})
    assert status == 400
    error = page.split('id="id_chat_url_errors">', 1)[1].split("</span>", 1)[0]
    assert "is not an apprise URL apprise understands" in error
    assert "It was not kept here, as it may hold a token: paste it again." in error
    assert "carrier-pigeon://loft/7" not in page.split('id="id_chat_url"', 1)[1].split(">", 1)[0]  # not written back into the field
    status, page, _ = post_as(sales.maria, f"/settings/reps/{sales.lena.pk}/chat/", {"url": " "})
    assert status == 400
    assert "is required: an apprise notification URL" in page
    assert not ChatTarget.objects.exists()


def test_another_teams_chat_targets_are_no_targets(sales):
    assert post_as(sales.frank, "/settings/teams/amer/chat/", {"url": SLACK})[0] == 302
    target = ChatTarget.objects.get()
    assert post_as(sales.maria, f"/settings/chat/{target.pk}/remove/", {})[0] == 404
    assert post_as(sales.maria, "/settings/teams/amer/chat/", {"url": SLACK})[0] == 404
    assert post_as(sales.maria, f"/settings/reps/{sales.jordan.pk}/chat/", {"url": SLACK})[0] == 404
    assert post_as(sales.lena, "/settings/teams/emea/chat/", {"url": SLACK})[0] == 403
    assert ChatTarget.objects.get().active
    assert ChatTarget.objects.count() == 1
    assert page_of(sales.frank, "/settings/teams/amer/")[0] == 200


def test_a_url_whose_host_does_not_parse_is_refused_not_a_500(sales):
    status, page, _ = post_as(sales.maria, "/settings/teams/emea/chat/", {"url": "slack://[bad"})
    assert status == 400
    assert "(not a URL)" in page.split('id="id_chat_url_errors">', 1)[1]

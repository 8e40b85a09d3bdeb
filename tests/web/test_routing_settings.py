"""The routing rules page: the rules in force in words, a preview of where a sample lead would go under the rules as
typed (routing's own code, nothing saved), and saving them, for admins and managers of every team."""

from __future__ import annotations

from leadbaton.accounts.models import Team
from leadbaton.intake.models import Source
from leadbaton.routing.models import RoutingRule
from tests.api import test_rep_api
from tests.web.test_board import page_of, post_as
from tests.web.test_settings import post_and_follow

sales, morning = test_rep_api.sales, test_rep_api.morning

DE_TO_AMER = """- name: Germany to the Americas
  when:
  - field: country
    in: [DE]
  team: amer
  strategy: round_robin
"""


def sample(**fields: str) -> dict[str, str]:
    return {"email": "dana@northwind.example", "phone": "", "company": "", "title": "", "country": "US", "company_size": "",
            "product_interest": "", "campaign": "", "source": "", **fields}


def preview_of(page: str) -> str:
    return page.split('id="preview"', 1)[1].split("</section>", 1)[0]


def test_the_rules_in_force_are_shown_in_words_and_as_the_file_writes_them(sales):
    status, page = page_of(sales.maria, "/settings/routing/")
    assert status == 200
    assert "<code>country in US</code>" in page
    assert "the default team, <strong>EMEA</strong>" in page
    assert "- name: americas\n  when:\n  - field: country\n    in: [US]\n  team: amer\n  strategy: round_robin\n</textarea>" in page
    for outsider in (sales.lena, sales.mark):
        assert page_of(outsider, "/settings/routing/")[0] == 403


def test_the_preview_routes_a_sample_with_the_real_routing_code_and_saves_nothing(sales, morning):
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), "rules": "- name: americas\n  when: [{field: country, in: [US]}]\n  team: amer\n", "action": "preview"})
    assert status == 200
    shown = preview_of(page)
    assert "Jordan Rep of Americas, by round robin" in shown
    assert "routing rule &#x27;americas&#x27;" in shown
    status, page, _ = post_as(sales.maria, "/settings/routing/", {**sample(country="DE"), "rules": DE_TO_AMER, "action": "preview"})
    assert status == 200
    assert "Jordan Rep of Americas" in preview_of(page)  # the draft, not the rules in force
    assert list(RoutingRule.objects.filter(active=True).values_list("name", flat=True)) == ["americas"]
    assert 'value="DE"' in page
    assert "Germany to the Americas" in page


def test_a_preview_says_why_nobody_can_take_the_lead_now(sales, morning):
    test_rep_api.lena_only(sales)
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(country="DE"), "rules": "[]", "action": "preview"})
    assert status == 200
    shown = preview_of(page)
    assert "Lena Rep of EMEA" in shown
    assert "Jonas Berg</td><td>no: paused (training)" in shown


def test_saving_replaces_the_rules_and_routing_follows(intake, sales, morning):
    status, page = post_and_follow(sales.ada, "/settings/routing/", {**sample(), "rules": DE_TO_AMER, "action": "save"})
    assert status == 200
    assert "Saved: 1 rule, tried in this order." in page
    assert list(RoutingRule.objects.filter(active=True).values_list("name", flat=True)) == ["Germany to the Americas"]
    answer = intake.post({"email": "kai@example.de", "country": "DE"})
    assert answer.json()["owner"]["id"] == sales.jordan.pk


def test_a_manager_who_does_not_run_every_team_previews_but_may_not_save(sales):
    status, page = page_of(sales.maria, "/settings/routing/")
    assert 'value="save"' not in page
    assert "An admin or a manager of every team saves the rules" in page
    status, page, _ = post_as(sales.maria, "/settings/routing/", {**sample(), "rules": DE_TO_AMER, "action": "save"})
    assert status == 403
    assert "not saved: an admin or a manager of every team saves the rules" in page
    assert "Germany to the Americas" in page  # what they typed stays, to preview or to hand on
    assert list(RoutingRule.objects.filter(active=True).values_list("name", flat=True)) == ["americas"]


def test_rules_that_cannot_be_read_are_said_by_line_or_path_and_kept(sales):
    cases = {
        "- name: x\n  team: [emea\n": "line 3, column 1",
        "": "is empty; write [] to switch every rule off",
        "name: x": "<code>routing</code>: must be a list (lines starting with &#x27;- &#x27;)",
        "- name: x\n  team: apac\n": "<code>rules[0].team</code>: &#x27;apac&#x27; is not an active team; use the slug of one of: amer, emea",
        "- name: x\n  team: emea\n  when: [{field: contry, in: [DE]}]\n": "<code>routing[0].when[0]",
        # read as the organisation file reads its routing section: a typo, a bare NO, a key twice are refused, not saved
        "- name: x\n  team: amer\n  wehn: [{field: country, in: [DE]}]\n": "<code>routing[0].wehn</code>: is not a key of a routing rule (did you mean when?)",
        "- name: x\n  team: amer\n  when: [{field: country, in: [NO, SE]}]\n": "put it in quotes (&quot;NO&quot; for Norway)",
        "- name: x\n  team: amer\n  team: emea\n": "the key &#x27;team&#x27; is written twice",
        # what a page must bound: aliases (a few lines that expand without end), size, text no database stores
        "- &a {name: x, team: emea}\n- *a\n": "an alias (*name) is not read here",
        "- name: " + "x" * 70000 + "\n  team: emea\n": "<code>routing</code>: is 70022 characters long; at most 65536 fit",
        '- name: "x\\0"\n  team: emea\n': "<code>routing[0].name</code>: holds a NUL character or a lone surrogate",
        '- name: "x\\ud800"\n  team: emea\n': "<code>routing[0].name</code>: holds a NUL character or a lone surrogate",
        "- name: x\n  team: emea\n  when: [{field: company_size, at_least: .inf}]\n": "must be a number, not inf",
        "- name: x\n  team: emea\n  when: [{field: country, equals: 2024-01-01}]\n": "2024-01-01 must be text, a number or true/false",
        "- name: 2024-13-45\n  team: emea\n": "<code>routing</code>: month must be in 1..12",
        "- name: x\n  team: emea\n  when: [{field: company_size, at_least: " + "9" * 5000 + "}]\n": "<code>routing</code>: Exceeds the limit",
        "[" * 3000 + "]" * 3000: "<code>routing",
    }
    for text, said in cases.items():
        for action in ("preview", "save"):
            status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), "rules": text, "action": action})
            assert status == 400, (text, action)
            errors = page.split('id="id_rules_errors"', 1)[1].split("</div>", 1)[0]
            assert said in errors, (text, errors)
            assert 'aria-invalid="true"' in page
    assert list(RoutingRule.objects.filter(active=True).values_list("name", flat=True)) == ["americas"]


def test_a_sample_nobody_could_be_reached_at_is_said_next_to_the_email(sales):
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(email="dana at northwind"), "rules": "[]", "action": "preview"})
    assert status == 400
    error = page.split('id="id_sample_email_errors">', 1)[1].split("</p>", 1)[0]
    assert error.startswith("&#x27;dana at northwind&#x27; is not a valid email address")
    assert 'value="dana at northwind"' in page


def test_a_rule_of_a_switched_off_team_is_shown_as_routing_nothing_and_left_out_of_the_text(sales):
    Team.objects.filter(pk=sales.amer.pk).update(active=False)
    status, page = page_of(sales.ada, "/settings/routing/")
    assert "(its team is switched off: it routes nothing)" in page
    text = page.split('name="rules"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert text == "[]\n"
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), "rules": text, "action": "preview"})
    assert status == 200  # the text as shown can be tried as it is


def test_a_preview_says_when_the_person_has_an_open_lead_a_real_inquiry_would_join(intake, sales, morning):
    lead_id = intake.post({"email": "dana@northwind.example", "country": "US", "first_name": "Dana"}).json()["id"]
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), "rules": "[]", "action": "preview"})
    assert status == 200
    assert f"This person has Dana&#x27;s open lead {lead_id} (assigned): a real inquiry would be merged into it, not routed" in page
    status, page, _ = post_as(sales.maria, "/settings/routing/", {**sample(), "rules": "[]", "action": "preview"})
    assert "an open lead of this person you may not open" in page  # Jordan's lead, in the Americas
    assert f"open lead {lead_id}" not in preview_of(page)


def test_a_sample_phone_is_read_with_the_sources_country(intake, sales, morning):
    Source.objects.filter(slug="website").update(default_region="DE")
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(email="", phone="030 1234567", country=""), "rules": "[]",
                                                                 "source": "website", "action": "preview"})
    assert status == 200, page
    assert "Lena Rep of EMEA" in preview_of(page)

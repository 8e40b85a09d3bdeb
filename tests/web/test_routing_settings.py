"""The routing rules page: the rules in force in words, a preview of where a sample lead would go under the rules as
typed (routing's own code, nothing saved), and saving them, for admins and managers of every team."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from leadbaton.accounts.models import Team
from leadbaton.core.conditions import OPERATORS
from leadbaton.intake.models import Source
from leadbaton.routing.models import RoutingRule
from leadbaton.web.rule_builder import OPERATOR_LABELS
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
    status, page = page_of(sales.maria, "/settings/routing/?editor=yaml")
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
        "- name: x\n  team: emea\n  when: [{field: company_size, at_least: .inf}]\n": "must be a finite number, not inf",
        "- name: x\n  team: emea\n  when: [{field: country, equals: .nan}]\n": "must be a finite number, not nan",
        "- name: x\n  team: emea\n  when: [{field: country, in: [US, -.inf]}]\n": "must be a finite number, not -inf",
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
    status, page = page_of(sales.ada, "/settings/routing/?editor=yaml")
    assert "(its team is switched off: it routes nothing)" in page
    text = page.split('name="rules"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert text == "[]\n"
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), "rules": text, "action": "preview"})
    assert status == 200  # the text as shown can be tried as it is
    status, page = page_of(sales.ada, "/settings/routing/")
    assert "(its team is switched off: it routes nothing)" in page
    assert builder_rules(page) == []  # the builder leaves it out too: only the empty new rule is shown


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


# The rule builder: the rules as rows of a form, read into what the organisation file holds and checked by the same code.


class _Form(HTMLParser):
    """What a browser would send of the page's rule form: inputs (a checkbox when checked), selects (the selected option)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        name = named.get("name") or ""
        if tag == "input" and (name.startswith("rule") or name == "editor"):
            if named.get("type") != "checkbox" or "checked" in named:
                self.values[name] = named.get("value") or ""
        elif tag == "select" and name.startswith("rule"):
            self._select, self._first = name, True
        elif tag == "option" and self._select:
            if self._first or "selected" in named:
                self.values[self._select] = named.get("value") or ""
            self._first = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def builder_form(page: str) -> dict[str, str]:
    form = _Form()
    form.feed(page)
    return form.values


def builder_rules(page: str) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """The rules the builder shows (name, team, conditions as (field, operator, value)), the empty new rule left out."""
    values = builder_form(page)
    rules = []
    for index in range(int(values["rule_count"])):
        name = values[f"rule-{index}-name"]
        conditions = [(values[f"rule-{index}-when-{n}-field"], values[f"rule-{index}-when-{n}-operator"], values[f"rule-{index}-when-{n}-value"])
                      for n in range(int(values[f"rule-{index}-condition_count"]))]
        if name:
            rules.append((name, values[f"rule-{index}-team"], [c for c in conditions if c[0]]))
    return rules


def active_rules() -> list[tuple[str, str, list[dict]]]:
    return [(rule.name, rule.team.slug, rule.conditions) for rule in RoutingRule.objects.filter(active=True).select_related("team").order_by("position")]


def test_the_builder_shows_each_rule_with_its_conditions_and_an_empty_rule_to_add(sales):
    status, page = page_of(sales.ada, "/settings/routing/")
    assert status == 200
    assert builder_rules(page) == [("americas", "amer", [("country", "in", "US")])]
    assert '<legend>A new rule</legend>' in page
    assert '<label for="rule-0-when-0-field"' in page.replace(' class="visually-hidden"', "")  # every control has its label


def test_a_rule_is_added_changed_and_put_first_with_the_builder_and_routing_follows(intake, sales, morning):
    _, page = page_of(sales.ada, "/settings/routing/")
    form = builder_form(page)
    form.update({"rule-1-name": "Germany and Austria, large", "rule-1-team": "amer", "rule-1-strategy": "weighted", "rule-1-place": "1",
                 "rule-1-when-0-field": "country", "rule-1-when-0-operator": "in", "rule-1-when-0-value": "DE, AT",
                 "rule-1-when-1-field": "company_size", "rule-1-when-1-operator": "at_least", "rule-1-when-1-value": "200",
                 "rule-0-when-0-value": "US, CA", "rule-0-place": "2"})
    status, page = post_and_follow(sales.ada, "/settings/routing/", {**sample(), **form, "action": "save"})
    assert status == 200, page
    assert "Saved: 2 rules, tried in this order." in page
    assert active_rules() == [
        ("Germany and Austria, large", "amer", [{"field": "country", "in": ["DE", "AT"]}, {"field": "company_size", "at_least": 200}]),
        ("americas", "amer", [{"field": "country", "in": ["US", "CA"]}]),
    ]
    assert RoutingRule.objects.get(active=True, name="Germany and Austria, large").strategy == "weighted"
    assert intake.post({"email": "kai@example.de", "country": "DE", "company_size": "250"}).json()["owner"]["id"] == sales.jordan.pk
    assert builder_rules(page)[0] == ("Germany and Austria, large", "amer", [("country", "in", "DE, AT"), ("company_size", "at_least", "200")])


def test_a_rule_is_removed_and_an_empty_condition_row_changes_nothing(sales):
    _, page = page_of(sales.ada, "/settings/routing/")
    form = builder_form(page)
    status, _ = post_and_follow(sales.ada, "/settings/routing/", {**sample(), **form, "action": "save"})
    assert status == 200
    assert active_rules() == [("americas", "amer", [{"field": "country", "in": ["US"]}])]  # saved as shown: the same rules
    form["rule-0-remove"] = "yes"
    status, page = post_and_follow(sales.ada, "/settings/routing/", {**sample(), **form, "action": "save"})
    assert "Saved: 0 rules" in page
    assert active_rules() == []


def test_the_builder_previews_its_rows_with_the_real_routing_code_and_saves_nothing(sales, morning):
    _, page = page_of(sales.ada, "/settings/routing/")
    form = {**builder_form(page), "rule-0-when-0-value": "DE"}
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(country="DE"), **form, "action": "preview"})
    assert status == 200
    assert "Jordan Rep of Americas" in preview_of(page)
    assert 'value="DE"' in page  # the rows as typed stay
    assert active_rules() == [("americas", "amer", [{"field": "country", "in": ["US"]}])]


@pytest.mark.parametrize(("change", "where", "said"), [
    ({"rule-1-name": "Asia", "rule-1-team": ""}, "rule-1", "Team: pick the team that gets the leads this rule matches"),
    ({"rule-1-name": "Asia", "rule-1-team": "amer", "rule-1-when-0-field": "contry", "rule-1-when-0-value": "JP"}, "rule-1-when-0", "contry"),
    ({"rule-1-name": "Big", "rule-1-team": "amer", "rule-1-when-0-field": "company_size", "rule-1-when-0-operator": "at_least",
      "rule-1-when-0-value": "lots"}, "rule-1-when-0", "number"),
    ({"rule-0-place": "first"}, "rule-0", "Place: &#x27;first&#x27; is not a place in the order; write a whole number"),
    ({"rule-1-team": "amer"}, "rule-1", "Name: give the rule a name"),
])
def test_a_rule_that_cannot_be_saved_says_why_next_to_it_and_keeps_what_was_typed(sales, change, where, said):
    _, page = page_of(sales.ada, "/settings/routing/")
    form = {**builder_form(page), **change}
    for action in ("preview", "save"):
        status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), **form, "action": action})
        assert status == 400, (change, action)
        assert "see the problems next to the rules below" in page
        errors = page.split(f'id="{where}-errors"', 1)[1].split("</", 1)[0]
        assert said in errors, (change, errors)
        assert all(builder_form(page)[name] == value for name, value in change.items())  # what was typed stays
    assert active_rules() == [("americas", "amer", [{"field": "country", "in": ["US"]}])]


def test_every_kind_of_condition_goes_through_the_builder_unchanged(sales):
    assert set(OPERATOR_LABELS) == set(OPERATORS)  # a new operator is offered as soon as it is named
    conditions = [{"field": "country", "in": ["DE", "AT"]}, {"field": "company_size", "at_least": 200}, {"field": "score", "at_most": 72.5},
                  {"field": "free_mail", "equals": False}, {"field": "message", "contains": "demo, please"},
                  {"field": "fields.budget", "is_set": False}, {"field": "region", "not_in": ["BY"]}, {"field": "title", "equals": "CTO"},
                  # what would read as something else written bare: kept as it was
                  {"field": "title", "contains": ["director", "vp"]}, {"field": "company", "in": ["Acme, Inc", "Globex", 'The "Q" Co']},
                  {"field": "fields.tier", "equals": "1.50"}, {"field": "fields.code", "equals": "123"}, {"field": "fields.flag", "equals": "true"},
                  {"field": "city", "in": ["01234", 7, 2.5, " padded "]}, {"field": "score", "at_least": 0.1234567},
                  {"field": "company_size", "at_most": 1e20}, {"field": "score", "at_least": 1e-07}, {"field": "company_size", "at_least": 10**15},
                  {"field": "score", "at_least": 0.1 * 0.3}, {"field": "region", "in": ["", "US"]}, {"field": "company_size", "at_most": 10**305},
                  {"field": "fields.note", "equals": ""}, {"field": "title", "equals": 'say "hi", please'}, {"field": "score", "at_least": -3}]
    RoutingRule.objects.filter(active=True).update(conditions=conditions)
    _, page = page_of(sales.ada, "/settings/routing/")
    status, page = post_and_follow(sales.ada, "/settings/routing/", {**sample(), **builder_form(page), "action": "save"})
    assert status == 200, page
    assert active_rules() == [("americas", "amer", conditions)]


@pytest.mark.parametrize("count", [None, "", "-1", "abc", "²", "1" * 5000, "61"])
def test_rows_that_are_not_the_pages_whole_form_are_refused_and_change_nothing(sales, count):
    _, page = page_of(sales.ada, "/settings/routing/")
    form = builder_form(page)
    for name in ("rule_count", "rule-0-condition_count"):
        broken = {key: value for key, value in form.items() if key != name} | ({} if count is None else {name: count})
        for action in ("preview", "save"):
            status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), **broken, "action": action})
            assert status == 400, (name, count, action)
            assert f"{name} is" in page
            assert "load the page again" in page
    assert active_rules() == [("americas", "amer", [{"field": "country", "in": ["US"]}])]


@pytest.mark.parametrize(("change", "where", "said"), [
    ({"rule-0-when-0-operator": "bogus"}, "rule-0-when-0", "&#x27;bogus&#x27; is not an operator"),
    ({"rule-0-when-0-operator": "is_set", "rule-0-when-0-value": "maybe"}, "rule-0-when-0", "write yes (the field is filled in) or no"),
    ({"rule-0-when-0-value": '"Acme, Inc'}, "rule-0-when-0", "a text in double quotes is not closed"),
    ({"rule-0-when-0-value": "true, US"}, "rule-0-when-0", "true"),  # a list item's problem: next to its condition too
    ({"rule-0-when-0-operator": "equals", "rule-0-when-0-value": "1e999"}, "rule-0-when-0", "must be a finite number, not inf"),
    ({"rule-0-when-0-operator": "equals", "rule-0-when-0-value": '"Acme, Inc'}, "rule-0-when-0", "a text in double quotes is not closed"),
    ({"rule-0-when-0-operator": "equals", "rule-0-when-0-value": '"a", "b"'}, "rule-0-when-0", "takes one value"),
])
def test_a_condition_the_builder_cannot_read_says_why_next_to_it(sales, change, where, said):
    _, page = page_of(sales.ada, "/settings/routing/")
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), **builder_form(page), **change, "action": "save"})
    assert status == 400
    errors = page.split(f'id="{where}-errors"', 1)[1].split("</", 1)[0]
    assert said in errors, errors
    assert f'aria-describedby="{where}-errors"' in page
    assert active_rules() == [("americas", "amer", [{"field": "country", "in": ["US"]}])]


def test_every_problem_of_a_rule_is_said_at_once(sales):
    _, page = page_of(sales.ada, "/settings/routing/")
    change = {"rule-1-name": "Big", "rule-1-when-0-field": "company_size", "rule-1-when-0-operator": "at_least", "rule-1-when-0-value": "lots"}
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), **builder_form(page), **change, "action": "preview"})
    assert status == 400
    assert page.count("Team: pick the team that gets the leads this rule matches") == 1  # said once, not again by the file's check
    assert "must be a number" in page.split('id="rule-1-when-0-errors"', 1)[1].split("</", 1)[0]
    assert '<select id="rule-1-team" name="rule-1-team" aria-invalid="true"' in page


def test_more_rules_than_the_builder_carries_open_as_the_file_writes_them(sales):
    RoutingRule.objects.bulk_create([RoutingRule(name=f"rule {n}", team=sales.amer, position=10 + n, conditions=[{"field": "country", "in": ["US"]}])
                                     for n in range(70)])
    status, page = page_of(sales.ada, "/settings/routing/")
    assert status == 200
    assert "These 71 rules are more than the rule-by-rule editor carries" in page
    assert '<textarea id="id_rules"' in page
    assert 'name="rule_count"' not in page
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), "editor": "rows", "rule_count": "x", "action": "save"})
    assert status == 400  # refused whole, and shown as the file writes them, not as rows it could not take back
    assert '<textarea id="id_rules"' in page
    assert 'name="rule_count"' not in page


def test_a_problem_with_a_conditions_field_marks_the_field_and_one_with_its_value_the_value(sales):
    _, page = page_of(sales.ada, "/settings/routing/")
    change = {"rule-0-when-0-field": "contry", "rule-1-name": "Big", "rule-1-team": "amer", "rule-1-when-0-field": "company_size",
              "rule-1-when-0-operator": "at_least", "rule-1-when-0-value": "lots"}
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), **builder_form(page), **change, "action": "preview"})
    assert status == 400
    assert 'name="rule-0-when-0-field" value="contry" list="lead-fields" aria-invalid="true"' in page
    assert 'name="rule-0-when-0-value" value="US" >' in page
    assert 'name="rule-1-when-0-value" value="lots" aria-invalid="true"' in page


def test_a_number_longer_than_a_float_holds_is_read_not_a_server_error(sales, morning):
    rules = "- name: huge\n  team: emea\n  when: [{field: company_size, at_least: 1" + "0" * 400 + "}]\n"
    status, page, _ = post_as(sales.ada, "/settings/routing/", {**sample(), "rules": rules, "action": "preview"})
    assert status == 200  # nothing is that big: the rule matches no lead, and the preview says where the sample goes instead
    assert "huge" not in preview_of(page)

"""The organisation file: read and check the YAML that `leadbaton config apply` applies.

Reading is pure (no queries). Every problem is collected with the path where it
is written (`reps[3].hours`; list positions count from 0) and what would be
accepted, and OrgFileError carries all of them at once, so one run shows every
mistake. docs/configuration.md describes each key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from leadbaton.accounts.models import Role
from leadbaton.core.conditions import LEAD_FIELDS, OPERATORS, ConditionError, condition_as_dict, condition_parse
from leadbaton.core.values import (
    MAX_CAP,
    MAX_WEIGHT,
    WEIGHT_HINT,
    Entry,
    country_read,
    date_read,
    email_read,
    hours_read,
    show,
    slug_read,
    suggest,
    time_zone_read,
)
from leadbaton.intake.models import Source
from leadbaton.notify.services import chat_url_shown, chat_url_understood
from leadbaton.qualification.scoring import REQUIRABLE
from leadbaton.routing.models import Strategy
from leadbaton.sla.services import escalation_parse

STAFF_ROLES = (Role.ADMIN.value, Role.MARKETING.value, Role.MANAGER.value)
TOP_KEYS = ("organisation", "sources", "teams", "users", "reps", "routing", "sla", "lead_definition", "marketing")
SOURCE_KEYS = ("slug", "kind", "name", "default_region", "rate_limit_per_minute")
TEAM_KEYS = ("slug", "name", "time_zone", "manager", "default", "overflow_nurture_below", "chat", "sla")
USER_KEYS = ("email", "name", "role")
REP_KEYS = ("email", "name", "team", "time_zone", "country", "hours", "weight", "daily_cap", "max_open", "paused", "time_off", "chat")
TIME_OFF_KEYS = ("from", "to", "reason")
RULE_KEYS = ("name", "when", "team", "strategy")
SLA_KEYS = (
    "first_response_minutes", "attempts", "attempts_within_days", "progress_every_days", "business_hours", "business_days",
    "remind_before_minutes", "escalation", "catch_up_stale_share", "catch_up_overdue_next_steps",
)
DEFINITION_KEYS = ("name", "description", "required", "threshold", "signed_off_by", "fit")
MARKETING_KEYS = ("sales_ready_per_week", "acceptance_rate")
# Fields whose value is true or false, so `equals: true` is meant; elsewhere a bare NO is Norway read as false.
BOOLEAN_FIELDS = frozenset({"free_mail", "consent_marketing"})


@dataclass(frozen=True)
class SourceSpec:
    slug: str
    kind: str
    name: str
    default_region: str
    rate_limit_per_minute: int | None


@dataclass(frozen=True)
class TeamSpec:
    slug: str
    name: str
    time_zone: str
    manager: str  # an email of a user or rep in the same file, or ""
    default: bool
    overflow_nurture_below: int | None = None  # when the team is full, leads scoring below this go to nurture
    chat: tuple[str, ...] | None = None  # apprise URLs; None: the file does not say, keep the team's chat targets
    sla: SlaSpec | None = None  # the team's own service levels: the keys it writes override the organisation's
    given: frozenset[str] = frozenset()  # the keys the file writes; an existing team keeps what a settings page set for the others


@dataclass(frozen=True)
class UserSpec:
    email: str
    name: str
    role: str


@dataclass(frozen=True)
class TimeOffSpec:
    starts_on: date
    ends_on: date  # inclusive
    reason: str


@dataclass(frozen=True)
class RepSpec:
    email: str
    name: str
    team: str
    time_zone: str
    country: str
    hours: dict[str, list[list[str]]]
    weight: int
    daily_cap: int | None
    max_open: int | None
    paused: bool | None  # None: the file does not say; keep what was set in the app
    time_off: tuple[TimeOffSpec, ...] | None  # None: likewise
    chat: tuple[str, ...] | None = None  # apprise URLs; None: likewise
    given: frozenset[str] = frozenset()  # the keys the file writes; an existing rep keeps what a settings page set for the others


@dataclass(frozen=True)
class RuleSpec:
    name: str
    when: list[dict[str, Any]]
    team: str
    strategy: str


@dataclass(frozen=True)
class SlaSpec:
    first_response_minutes: int
    attempts: int
    attempts_within_days: int
    progress_every_days: int
    business_hours: bool
    remind_before_minutes: int
    business_days: bool = False
    escalation: dict[str, list[tuple[float, str]]] = field(default_factory=dict)  # clock kinds the file writes steps for
    catch_up_stale_share: int = 20
    catch_up_overdue_next_steps: int = 5
    given: frozenset[str] = frozenset()  # the keys the file wrote (a team's overrides)

    def over(self, base: SlaSpec) -> SlaSpec:
        """`base` with the values this spec's file wrote in its place (a team's sla over the organisation's)."""
        return replace(base, **{key: getattr(self, key) for key in self.given}, given=base.given | self.given)


@dataclass(frozen=True)
class DefinitionSpec:
    name: str
    description: str
    required: list[str]
    threshold: int
    signed_off_by: list[str]
    fit: list[dict[str, Any]]


@dataclass(frozen=True)
class MarketingSpec:
    """Marketing's targets (S3); a key left out keeps what is set."""

    sales_ready_per_week: int | None
    acceptance_rate: int | None


@dataclass(frozen=True)
class Organisation:
    """What the file says. A section that is absent (None) is left alone when applied."""

    name: str
    sources: tuple[SourceSpec, ...] | None
    teams: tuple[TeamSpec, ...] | None
    users: tuple[UserSpec, ...] | None
    reps: tuple[RepSpec, ...] | None
    routing: tuple[RuleSpec, ...] | None
    sla: SlaSpec | None
    lead_definition: DefinitionSpec | None
    marketing: MarketingSpec | None = None


class OrgFileError(ValueError):
    """Everything wrong with a file, one message per problem, each starting with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def orgfile_parse(text: str) -> Organisation:
    """Read an organisation file's text; raise OrgFileError listing every problem."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader: no Python objects
    except yaml.YAMLError as error:
        raise OrgFileError([f"{_yaml_where(error)}: {_yaml_problem(error)}; the file is not valid YAML"]) from None
    if not isinstance(raw, dict):
        found = "empty" if raw is None else f"a {type(raw).__name__}"
        raise OrgFileError([f"(file): is {found}; it must be a mapping with some of the keys {', '.join(TOP_KEYS)}"])
    errors: list[str] = []
    top = Entry(raw, "", TOP_KEYS, errors, "the organisation file")
    name = ""
    if top.section("organisation"):
        name = Entry(raw["organisation"], "organisation", ("name",), errors, "organisation").text("name", hint="the company's name")
    sources = top.each("sources", SOURCE_KEYS, "a source", _source)
    teams = top.each("teams", TEAM_KEYS, "a team", _team)
    users = top.each("users", USER_KEYS, "a user", _user)
    reps = top.each("reps", REP_KEYS, "a rep", _rep)
    routing = top.each("routing", RULE_KEYS, "a routing rule", _rule)
    sla = _sla(Entry(raw["sla"], "sla", SLA_KEYS, errors, "sla")) if top.section("sla") else None
    definition = None
    if top.section("lead_definition"):
        definition = _definition(Entry(raw["lead_definition"], "lead_definition", DEFINITION_KEYS, errors, "lead_definition"))
    marketing = None
    if top.section("marketing"):
        entry = Entry(raw["marketing"], "marketing", MARKETING_KEYS, errors, "marketing")
        marketing = MarketingSpec(
            entry.whole("sales_ready_per_week", hint="the sales-ready leads a week marketing promises, 0 for no target", minimum=0,
                        maximum=1_000_000),
            entry.whole("acceptance_rate", hint="the percent of them sales accepts, 0 to 100 (0 for no target)", minimum=0, maximum=100),
        )
    reps = _cross_check(errors, sources or (), teams or (), users or (), reps, routing or ())
    if errors:
        raise OrgFileError(errors)
    return Organisation(name, sources, teams, users, reps, routing, sla, definition, marketing)


RULES_TEXT_MAX = 64 * 1024


def routing_parse(text: str) -> list[dict[str, Any]]:
    """The routing rules alone, as a settings page sends them: a YAML list read as the file reads its `routing:`
    (a key written twice, an unknown key, a bare NO for Norway refused), each {name, when, team, strategy}.

    What a page may send is bounded: at most RULES_TEXT_MAX characters, no aliases (a short text of nested
    aliases expands without bound), no NUL or lone surrogate in a text. The teams are checked by whoever uses
    the rules (routing.services.rules_check). Raises OrgFileError listing every problem, by path (`routing[0].team`).
    """
    if len(text) > RULES_TEXT_MAX:
        raise OrgFileError([f"routing: is {len(text)} characters long; at most {RULES_TEXT_MAX} fit"])
    try:
        raw = yaml.load(text, Loader=_PageLoader)
    except yaml.YAMLError as error:
        raise OrgFileError([f"routing: {_yaml_where(error)}: {_yaml_problem(error)}; write the rules as the organisation file's routing section"]) from None
    except (ValueError, OverflowError, RecursionError) as error:  # a number of thousands of digits, a date such as 2024-13-45, nesting
        raise OrgFileError([f"routing: {str(error)[:200]}; write the rules as the organisation file's routing section"]) from None
    if raw is None:
        raise OrgFileError(["routing: is empty; write [] to switch every rule off (leads then go to the default team)"])
    return routing_read(raw)


def routing_read(raw: Any) -> list[dict[str, Any]]:
    """The routing rules from data already read (routing_parse's YAML, or the rule builder's rows on the settings page),
    checked as the file checks its `routing:` section: each {name, when, team, strategy}. Raises OrgFileError listing
    every problem, by path (`routing[0].when[1]`)."""
    errors: list[str] = []
    if (where := _unstorable(raw, "routing")) is not None:
        raise OrgFileError([f"{where}: holds a NUL character or a lone surrogate, which cannot be stored; remove it"])
    rules = Entry({"routing": raw}, "", ("routing",), errors, "the routing rules").each("routing", RULE_KEYS, "a routing rule", _rule)
    if errors:
        raise OrgFileError(errors)
    return [{"name": rule.name, "when": rule.when, "team": rule.team, "strategy": rule.strategy} for rule in rules or ()]


def _yaml_where(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"


def _yaml_problem(error: yaml.YAMLError) -> str:
    return getattr(error, "problem", None) or str(error)


def _unstorable(value: Any, path: str) -> str | None:
    """The path of the first text (or key) no database stores: a NUL character or a lone surrogate."""
    if isinstance(value, str):
        return path if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if (found := _unstorable(str(key), f"{path}.{key}")) is not None or (found := _unstorable(item, f"{path}.{key}")) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _unstorable(item, f"{path}[{index}]")) is not None:
                return found
    return None


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (YAML would keep the last one silently)."""


def _mapping_without_repeats(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool | None):
            continue  # a list or mapping as a key: construct_mapping says what is wrong
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is written twice in this mapping", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeats)


class _PageLoader(_Loader):
    """_Loader without aliases, for text a page sends: `*name` is refused where it is written."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "an alias (*name) is not read here; write the value out", mark)
        return super().compose_node(parent, index)


def _source(entry: Entry) -> SourceSpec:
    region = entry.text("default_region", hint="an ISO country code such as US", max_length=10)
    return SourceSpec(
        slug=slug_read(entry, "slug"),
        kind=entry.choice("kind", tuple(Source.Kind.values), default=Source.Kind.API.value),
        name=entry.text("name", hint="the name people see, such as Website contact form", required=True),
        default_region=country_read(entry, "default_region", region),
        rate_limit_per_minute=entry.whole("rate_limit_per_minute", hint="requests a minute per key, such as 120", minimum=1),
    )


def _team(entry: Entry) -> TeamSpec:
    manager = entry.text("manager", hint="the email of a user or rep in this file", max_length=254)
    return TeamSpec(
        slug=slug_read(entry, "slug"),
        name=entry.text("name", hint="the name people see, such as EMEA", required=True),
        time_zone=time_zone_read(entry, "time_zone", required=True),
        manager=email_read(entry, "manager", manager) if manager else "",
        default=bool(entry.flag("default", default=False)),
        overflow_nurture_below=entry.whole(
            "overflow_nurture_below", hint="a score such as 60: when nobody can take a lead, one scoring below it goes to nurture",
            minimum=1, maximum=32767,
        ),
        chat=_chat(entry),
        sla=_sla(Entry(entry.raw["sla"], entry.at("sla"), SLA_KEYS, entry.errors, "a team's sla")) if entry.section("sla") else None,
        given=frozenset(key for key in entry.raw if key in TEAM_KEYS),
    )


def _user(entry: Entry) -> UserSpec:
    return UserSpec(
        email=email_read(entry, "email", entry.text("email", hint="an email address", required=True, max_length=254)),
        name=entry.text("name", hint="the person's name"),
        role=entry.choice("role", STAFF_ROLES, required=True),
    )


def _rep(entry: Entry) -> RepSpec:
    region = entry.text("country", hint="an ISO country code such as DE", max_length=10)
    hours = hours_read(entry)
    time_off = None
    if (entries := entry.items("time_off")) is not None:
        time_off = tuple(_time_off(Entry(raw, path, TIME_OFF_KEYS, entry.errors, "a time-off period")) for path, raw in entries)
    return RepSpec(
        email=email_read(entry, "email", entry.text("email", hint="an email address", required=True, max_length=254)),
        name=entry.text("name", hint="the person's name"),
        team=entry.text("team", hint="the slug of a team in this file", required=True),
        time_zone=time_zone_read(entry, "time_zone", required=False),  # "" = the team's, filled in by _cross_check
        country=country_read(entry, "country", region),
        hours=hours,
        weight=entry.whole("weight", hint=WEIGHT_HINT, minimum=1, maximum=MAX_WEIGHT, default=1) or 1,
        daily_cap=entry.whole("daily_cap", hint="new leads a day, 1 or more (leave it out for no cap)", minimum=1, maximum=MAX_CAP),
        max_open=entry.whole("max_open", hint="open leads at most, 1 or more (leave it out for no ceiling)", minimum=1, maximum=MAX_CAP),
        paused=entry.flag("paused", default=None),
        time_off=time_off,
        chat=_chat(entry),
        given=frozenset(key for key in entry.raw if key in REP_KEYS),
    )


def _chat(entry: Entry) -> tuple[str, ...] | None:
    """A team's or rep's apprise notification URLs. A URL may hold a token, so a message shows only its scheme and host."""
    items = entry.items("chat")
    if items is None:
        return None
    urls: dict[str, str] = {}
    for path, value in items:
        if not isinstance(value, str) or not value.strip():
            entry.errors.append(f"{path}: {show(value)} is not an apprise notification URL such as slack://…, mmost://… or tgram://…")
        elif not chat_url_understood(value.strip()):
            entry.errors.append(
                f'{path}: "{chat_url_shown(value.strip())}" is not an apprise URL apprise understands; '
                "see https://github.com/caronc/apprise/wiki for the URL of each service"
            )
        elif value.strip() in urls:
            entry.errors.append(f"{path}: is the same URL as {urls[value.strip()]}; list each once")
        else:
            urls[value.strip()] = path
    return tuple(urls)


def _time_off(entry: Entry) -> TimeOffSpec:
    starts_on, ends_on = date_read(entry, "from"), date_read(entry, "to")
    if starts_on and ends_on and ends_on < starts_on:
        entry.fail("to", f"{ends_on.isoformat()} is before from ({starts_on.isoformat()}); 'to' is the last day off")
    return TimeOffSpec(starts_on or date.min, ends_on or date.min, entry.text("reason", hint="a short reason"))


def _rule(entry: Entry) -> RuleSpec:
    return RuleSpec(
        name=entry.text("name", hint="a name that says what the rule is for, such as Enterprise accounts", required=True),
        when=_conditions(entry, "when", points=False),
        team=entry.text("team", hint="the slug of a team in this file", required=True),
        strategy=entry.choice("strategy", tuple(Strategy.values), default=Strategy.ROUND_ROBIN.value),
    )


def _sla(entry: Entry) -> SlaSpec:
    def minutes(key: str, default: int, minimum: int = 1) -> int:
        value = entry.whole(key, hint=f"a whole number of minutes, {minimum} or more", minimum=minimum, default=default)
        return default if value is None else value

    def count(key: str, default: int, unit: str) -> int:
        return entry.whole(key, hint=f"a whole number of {unit}, 1 or more", minimum=1, default=default) or default

    spec = SlaSpec(
        first_response_minutes=minutes("first_response_minutes", 5),
        attempts=count("attempts", 6, "touches"),
        attempts_within_days=count("attempts_within_days", 10, "days"),
        progress_every_days=count("progress_every_days", 7, "days"),
        business_hours=bool(entry.flag("business_hours", default=True)),
        remind_before_minutes=minutes("remind_before_minutes", 2, minimum=0),
        business_days=bool(entry.flag("business_days", default=False)),
        escalation=_escalation(entry),
        catch_up_stale_share=_whole_or(entry, "catch_up_stale_share", 20, maximum=100,
                                       hint="a whole percent of a rep's open leads from 0 to 100, such as 20; 0 switches it off"),
        catch_up_overdue_next_steps=_whole_or(entry, "catch_up_overdue_next_steps", 5,
                                              hint="a whole number of overdue next steps, such as 5; 0 switches it off"),
        given=frozenset(key for key in SLA_KEYS if entry.has(key)),
    )
    if spec.remind_before_minutes >= spec.first_response_minutes:
        default = "" if entry.has("remind_before_minutes") else " (the default)"
        entry.fail(
            "remind_before_minutes",
            f"{spec.remind_before_minutes}{default} must be less than first_response_minutes ({spec.first_response_minutes}); "
            "0 sends no reminder",
        )
    return spec


def _escalation(entry: Entry) -> dict[str, list[tuple[float, str]]]:
    if not entry.has("escalation"):
        return {}
    steps, problems = escalation_parse(entry.raw["escalation"], entry.at("escalation"))
    entry.errors.extend(f"{path}: {message}" for path, message in problems)
    return steps


def _whole_or(entry: Entry, key: str, default: int, *, hint: str, maximum: int | None = None) -> int:
    """A whole number from 0 (0 switches the setting off), or `default` when absent or wrong (the error is recorded)."""
    value = entry.whole(key, hint=hint, minimum=0, maximum=maximum, default=default)
    return default if value is None else value


def _definition(entry: Entry) -> DefinitionSpec:
    required = entry.texts("required", hint=f"a field a lead needs: one of {', '.join(sorted(REQUIRABLE))}")
    for index, name in enumerate(required):
        if name not in REQUIRABLE:
            options = sorted(REQUIRABLE)
            entry.errors.append(
                f"{entry.at('required')}[{index}]: {show(name)} cannot be required{suggest(name, options)}; use one of {', '.join(options)}"
            )
    return DefinitionSpec(
        name=entry.text("name", hint="a name such as Sales-ready lead", required=True),
        description=entry.text("description", hint="what the definition means, in words", max_length=10_000),
        required=required,
        threshold=entry.whole("threshold", hint="the score a lead needs to be sales-ready, such as 50", required=True) or 0,
        signed_off_by=entry.texts("signed_off_by", hint="the name or email of who signed the definition off"),
        fit=_conditions(entry, "fit", points=True),
    )


def _conditions(entry: Entry, key: str, *, points: bool) -> list[dict[str, Any]]:
    """Conditions in core.conditions syntax, as stored; a fit rule also carries points and an optional label."""
    result = []
    extra = frozenset({"points", "label"}) if points else frozenset()
    for path, raw in entry.items(key) or []:
        allowed = ("field", *OPERATORS, *sorted(extra))
        unknown = [name for name in raw if name not in allowed] if isinstance(raw, dict) else []
        if unknown:
            # Before condition_parse, to suggest the key meant (a typo of `label` is not a missing operator).
            entry.errors.append(f"{path}.{unknown[0]}: is not a key of a condition{suggest(str(unknown[0]), allowed)}; use {', '.join(allowed)}")
            continue
        try:
            condition = condition_parse(raw, path=path, known_fields=LEAD_FIELDS, extra_keys=extra)
        except ConditionError as error:
            entry.errors.append(str(error))
            continue
        problem = _value_problem(condition.field, condition.operator, condition.value)
        if problem:
            entry.errors.append(f"{path}.{condition.operator}{problem}")
            continue
        stored = condition_as_dict(condition)
        if points:
            value, label = raw.get("points"), raw.get("label")
            if value is None:
                entry.errors.append(f"{path}.points: is required: the points this rule adds (negative to take away)")
            elif isinstance(value, bool) or not isinstance(value, int):
                entry.errors.append(f"{path}.points: {show(value)} is not a whole number; write the points this rule adds (negative to take away)")
            if label is not None and not isinstance(label, str):
                entry.errors.append(f"{path}.label: {show(label)} is not text; write how the reason shows on a lead")
            stored["points"] = value
            if label:
                stored["label"] = label
        result.append(stored)
    return result


def _value_problem(field: str, operator: str, value: Any) -> str:
    """What is wrong with a condition's value beyond what condition_parse checks ('' if nothing): '<suffix>: message'."""
    values = value if isinstance(value, list) else [value]
    for index, item in enumerate(values):
        where = f"[{index}]" if isinstance(value, list) else ""
        if not isinstance(item, str | int | float | bool):
            return f"{where}: {show(item)} must be text, a number or true/false"
        if isinstance(item, bool) and operator != "is_set" and field not in BOOLEAN_FIELDS and not field.startswith("fields."):
            return (
                f"{where}: {show(item)} is true/false, but {field} is text; "
                'YAML reads a bare NO, YES, ON or OFF as true/false: put it in quotes ("NO" for Norway)'
            )
    return ""


def _cross_check(
    errors: list[str],
    sources: tuple[SourceSpec, ...],
    teams: tuple[TeamSpec, ...],
    users: tuple[UserSpec, ...],
    reps: tuple[RepSpec, ...] | None,
    routing: tuple[RuleSpec, ...],
) -> tuple[RepSpec, ...] | None:
    """The checks that span entries: unique keys, one default team, references to teams and people.

    Returns the reps with the team's time zone filled in where a rep gives none.
    """
    _unique(errors, "sources", "slug", [source.slug for source in sources])
    _unique(errors, "teams", "slug", [team.slug for team in teams])
    _unique(errors, "routing", "name", [rule.name for rule in routing])
    people = [(f"users[{index}]", user.email) for index, user in enumerate(users)]
    people += [(f"reps[{index}]", rep.email) for index, rep in enumerate(reps or ())]
    seen: dict[str, str] = {}
    for path, email in people:
        if email and email in seen:
            errors.append(f"{path}.email: {show(email)} is already used by {seen[email]}; a person is listed once, as a user or as a rep")
        seen.setdefault(email, path)

    defaults = [index for index, team in enumerate(teams) if team.default]
    if teams and not defaults:
        errors.append("teams: no team has default: true; exactly one must, its queue takes the leads no routing rule matches")
    for index in defaults[1:]:
        first = defaults[0]
        errors.append(f"teams[{index}].default: only one team can be the default; teams[{first}] ({teams[first].slug}) is already")

    zones = {team.slug: team.time_zone for team in teams if team.slug}
    known = ", ".join(zones) or "none"
    for index, team in enumerate(teams):
        if team.manager and team.manager not in seen:
            errors.append(f"teams[{index}].manager: {show(team.manager)} is not a person in this file; list them under users (role manager) or reps")
    references = [(f"reps[{index}]", rep.team) for index, rep in enumerate(reps or ())]
    references += [(f"routing[{index}]", rule.team) for index, rule in enumerate(routing)]
    for path, slug in references:
        if slug and slug not in zones:
            errors.append(f"{path}.team: {show(slug)} is not a team in this file (teams: {known}){suggest(slug, zones)}")
    if reps is None:
        return None
    return tuple(rep if rep.time_zone else replace(rep, time_zone=zones.get(rep.team) or "UTC") for rep in reps)


def _unique(errors: list[str], section: str, key: str, values: list[str]) -> None:
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if value and value in first:
            errors.append(f"{section}[{index}].{key}: {show(value)} is already used by {section}[{first[value]}]; each {key} must be unique")
        first.setdefault(value, index)


def orgfile_read(path: Path) -> Organisation:
    """Read and check an organisation file on disk; a file that cannot be read is an OrgFileError too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise OrgFileError([f"{path}: cannot be read ({reason})"]) from None
    return orgfile_parse(text)

"""Organisation as code: apply an organisation file in one transaction, idempotently.

1. The file is read and checked as a whole first (file.orgfile_parse); with
   any error in it nothing is applied.
2. In one transaction: people first (teams name their managers), then teams
   (reps belong to them), rep profiles and time off, sources, routing rules
   (they name teams), the SLA policy and the lead definition.
3. What the file manages but no longer lists is deactivated, never deleted:
   leads, handoffs and reports keep pointing at it. A section the file leaves
   out is not touched at all.

Every write goes through a capability's `*_configure` service, which writes
only what differs, so applying the same file twice writes nothing and the
report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from leadbaton.accounts import services as accounts
from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.intake import services as intake
from leadbaton.intake.models import Source
from leadbaton.intake.queries import source_key_find
from leadbaton.notify import services as notify
from leadbaton.organisation.file import STAFF_ROLES, DefinitionSpec, Organisation, SlaSpec, SourceSpec
from leadbaton.pipeline.ownership import rep_deactivate
from leadbaton.qualification.queries import definition_active, targets_now
from leadbaton.qualification.services import definition_publish, targets_set
from leadbaton.routing import services as routing
from leadbaton.sla import services as sla
from leadbaton.sla.models import SlaPolicy

CREATED, UPDATED, DEACTIVATED, UNCHANGED = "created", "updated", "deactivated", "unchanged"
# The report lists changes in the order of the file's sections.
KINDS = ("source", "team", "user", "rep", "chat target", "routing rule", "SLA policy", "lead definition", "marketing targets")
# Model fields as the file calls them, for the report. None: part of another change (admin rights follow the role).
_FILE_NAMES: dict[str, str | None] = {
    "is_active": "active", "is_default": "default", "manager_id": "manager", "team_id": "team",
    "routing_weight": "weight", "open_ceiling": "max_open", "conditions": "when",
    "is_staff": "admin rights", "is_superuser": "admin rights", "pause_reason": None,
}


@dataclass(frozen=True)
class Change:
    """What applying did to one thing the file names: a team, a rep, a source, ..."""

    kind: str
    name: str
    action: str
    fields: tuple[str, ...] = ()

    def describe(self) -> str:
        what = f"{self.action:<12} {self.kind} {self.name}"
        return f"{what}: {', '.join(self.fields)}" if self.fields else what


@dataclass(frozen=True)
class NewKey:
    """A source's new API key. Its plaintext exists only here: print it once."""

    source: str
    plaintext: str


@dataclass
class ApplyReport:
    changes: list[Change] = field(default_factory=list)
    keys: list[NewKey] = field(default_factory=list)
    dry_run: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def changed(self) -> bool:
        return any(change.action != UNCHANGED for change in self.changes)

    def summary(self) -> str:
        if not self.changed:
            return f"nothing changed ({self.count(UNCHANGED)} unchanged)"
        counts = [f"{self.count(action)} {action}" for action in (CREATED, UPDATED, DEACTIVATED, UNCHANGED)]
        return ", ".join(counts)

    def lines(self) -> list[str]:
        """One line per change (unchanged things left out), then the summary."""
        return [change.describe() for change in self.changes if change.action != UNCHANGED] + [self.summary()]


class _Tally:
    """Changes in the order they happened; a thing changed twice (a team losing its default, then configured) is one entry."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Change] = {}

    def add(self, kind: str, name: str, *, created: bool = False, fields: Sequence[str] = (), action: str = "") -> None:
        """Record a change; `fields` are the model fields written (or, for something created, a note)."""
        said = tuple(dict.fromkeys(filter(None, (_FILE_NAMES.get(model_field, model_field) for model_field in fields))))
        action = action or (CREATED if created else UPDATED if said else UNCHANGED)
        earlier = self.entries.get((kind, name))
        if earlier is not None and action != DEACTIVATED:
            if earlier.action == CREATED or action == UNCHANGED:
                return
            said = tuple(dict.fromkeys(earlier.fields + said))
        self.entries[(kind, name)] = Change(kind, name, action, said)


def organisation_apply(*, organisation: Organisation, now: datetime, dry_run: bool = False) -> ApplyReport:
    """Make the database say what the file says, in one transaction. See the module docstring.

    With dry_run everything is done and then rolled back, so the report says
    what applying would change; no API key is issued.
    """
    with transaction.atomic():
        report = _apply(organisation, now, issue_keys=not dry_run)
        report.dry_run = dry_run
        if dry_run:
            transaction.set_rollback(True)
    return report


def _apply(organisation: Organisation, now: datetime, *, issue_keys: bool) -> ApplyReport:
    tally, report = _Tally(), ApplyReport()
    people = _people_apply(organisation, tally)
    zones_before = dict(Team.objects.values_list("pk", "time_zone"))
    teams = _teams_apply(organisation, people, tally)
    _reps_apply(organisation, people, teams, tally, zones_before=zones_before)
    # Deactivate only within the sections the file writes: a file without `users:` says nothing about admins.
    roles = [*(STAFF_ROLES if organisation.users is not None else ()), *((Role.REP,) if organisation.reps is not None else ())]
    for user in accounts.users_deactivate(roles=roles, keep_emails=set(people)):
        tally.add("rep" if user.role == Role.REP else "user", user.email, action=DEACTIVATED)
        # Nothing stays with someone who has left: their open leads go back to their team's queue.
        rep_deactivate(rep=user, by=None, why="removed from the organisation file", now=now)
    if organisation.teams is not None:
        for team in accounts.teams_deactivate(keep_slugs=set(teams)):
            tally.add("team", team.slug, action=DEACTIVATED)
    if organisation.sources is not None:
        report.keys = _sources_apply(organisation.sources, now, tally, issue_keys=issue_keys)
    if organisation.routing is not None:
        for position, rule_spec in enumerate(organisation.routing):
            rule, created, changed = routing.rule_configure(
                name=rule_spec.name, position=position, conditions=rule_spec.when, team=teams[rule_spec.team], strategy=rule_spec.strategy
            )
            tally.add("routing rule", repr(rule.name), created=created, fields=changed)
        for rule in routing.rules_deactivate(keep_names={spec.name for spec in organisation.routing}):
            tally.add("routing rule", repr(rule.name), action=DEACTIVATED)
    if organisation.sla is not None:  # the keys it writes over the policy in force: what a page set for the others stays
        _sla_apply(organisation.sla.over(_spec_of(sla.policy_for(None))), now, tally)
    if organisation.teams is not None:
        _team_slas_apply(organisation, teams, now, tally)
    if organisation.lead_definition is not None:
        _definition_apply(organisation.lead_definition, now, tally)
    if organisation.marketing is not None:
        current = targets_now()
        wanted = organisation.marketing
        _, changed = targets_set(
            sales_ready_per_week=current.sales_ready_per_week if wanted.sales_ready_per_week is None else wanted.sales_ready_per_week,
            acceptance_rate=current.acceptance_rate if wanted.acceptance_rate is None else wanted.acceptance_rate, now=now)
        tally.add("marketing targets", "marketing", fields=changed)
    report.changes = sorted(tally.entries.values(), key=lambda change: KINDS.index(change.kind))
    return report


def _people_apply(organisation: Organisation, tally: _Tally) -> dict[str, User]:
    """Every user and rep in the file, by email. People come first: teams name their managers."""
    people: dict[str, User] = {}
    for person in organisation.users or ():
        user, created, changed = accounts.user_configure(email=person.email, name=person.name, role=person.role)
        people[person.email] = user
        tally.add("user", person.email, created=created, fields=changed)
    for rep_spec in organisation.reps or ():
        user, created, changed = accounts.user_configure(email=rep_spec.email, name=rep_spec.name, role=Role.REP)
        people[rep_spec.email] = user
        tally.add("rep", rep_spec.email, created=created, fields=changed)
    return people


def _teams_apply(organisation: Organisation, people: dict[str, User], tally: _Tally) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    if organisation.teams is None:
        return teams
    default = next((spec.slug for spec in organisation.teams if spec.default), None)
    if default is not None:
        # At most one default team: the old one lets go before the new one takes over.
        for team in accounts.team_default_clear(keep_slug=default):
            tally.add("team", team.slug, fields=["is_default"])
    for spec in organisation.teams:
        team, created, changed = accounts.team_configure(
            slug=spec.slug, name=spec.name, time_zone=spec.time_zone, manager=people.get(spec.manager), is_default=spec.default,
            overflow_nurture_below=spec.overflow_nurture_below,
            keep=frozenset(field for key, field in _TEAM_FIELDS.items() if key not in spec.given),
        )
        teams[spec.slug] = team
        tally.add("team", spec.slug, created=created, fields=changed)
        if spec.chat is not None:
            _chat_apply(spec.chat, team_id=team.pk, rep_id=None, owner=f"team {spec.slug}", tally=tally)
    return teams


# A team's keys the file may leave out, and the field each sets: what a settings page set for one stays.
_TEAM_FIELDS = {"manager": "manager_id", "overflow_nurture_below": "overflow_nurture_below"}

# A rep's keys the file may leave out, and the profile field each sets: what a settings page set for one stays.
_REP_FIELDS = {"time_zone": "time_zone", "country": "country", "weight": "routing_weight", "daily_cap": "daily_cap", "max_open": "open_ceiling"}


def _reps_apply(organisation: Organisation, people: dict[str, User], teams: dict[str, Team], tally: _Tally, *,
                zones_before: dict[int, str]) -> None:
    for rep_spec in organisation.reps or ():
        keep = {field for key, field in _REP_FIELDS.items() if key not in rep_spec.given}
        now_in = RepProfile.objects.filter(user=people[rep_spec.email]).values_list("team_id", "time_zone").first()
        if now_in is None or now_in[1] == zones_before.get(now_in[0]):
            keep.discard("time_zone")  # a zone that was the team's follows the team the file names, and that team's zone
        profile, created, changed = accounts.rep_configure(
            user=people[rep_spec.email],
            team=teams[rep_spec.team],
            time_zone=rep_spec.time_zone,
            country=rep_spec.country,
            hours=rep_spec.hours,
            routing_weight=rep_spec.weight,
            daily_cap=rep_spec.daily_cap,
            open_ceiling=rep_spec.max_open,
            paused=rep_spec.paused,
            keep=frozenset(keep),
        )
        if rep_spec.time_off is not None:
            periods = [(period.starts_on, period.ends_on, period.reason) for period in rep_spec.time_off]
            if accounts.rep_time_off_replace(rep=profile, periods=periods) and not created:
                changed = [*changed, "time_off"]
        tally.add("rep", rep_spec.email, created=created, fields=changed)
        if rep_spec.chat is not None:
            _chat_apply(rep_spec.chat, team_id=None, rep_id=profile.user_id, owner=rep_spec.email, tally=tally)


def _chat_apply(urls: tuple[str, ...], *, team_id: int | None, rep_id: int | None, owner: str, tally: _Tally) -> None:
    """The team's or rep's chat targets become exactly these URLs; the report shows each by scheme and host only (URLs hold tokens)."""
    for url in urls:
        target, created, changed = notify.chat_target_configure(team_id=team_id, rep_id=rep_id, url=url)
        tally.add("chat target", f"#{target.pk} {target.label} of {owner}", created=created, fields=changed)
    for target in notify.chat_targets_deactivate(team_id=team_id, rep_id=rep_id, keep_urls=set(urls)):
        tally.add("chat target", f"#{target.pk} {target.label} of {owner}", action=DEACTIVATED)


def _sources_apply(specs: tuple[SourceSpec, ...], now: datetime, tally: _Tally, *, issue_keys: bool) -> list[NewKey]:
    keys = []
    for spec in specs:
        source, created, changed = intake.source_configure(
            slug=spec.slug,
            kind=spec.kind,
            name=spec.name,
            default_region=spec.default_region,
            rate_limit_per_minute=spec.rate_limit_per_minute,
            now=now,
        )
        tally.add("source", source.slug, created=created, fields=changed)
        if created and issue_keys:
            keys.append(NewKey(source.slug, intake.source_key_issue(source=source, now=now).plaintext))
    for source in intake.sources_deactivate(keep_slugs={spec.slug for spec in specs}):
        tally.add("source", source.slug, action=DEACTIVATED)
    return keys


def _sla_apply(values: SlaSpec, now: datetime, tally: _Tally, *, team: Team | None = None) -> None:
    policy, created, changed = sla.policy_configure(
        name=f"team {team.slug}" if team is not None else "default",
        team=team,
        first_response_minutes=values.first_response_minutes,
        attempts=values.attempts,
        attempts_within_days=values.attempts_within_days,
        progress_every_days=values.progress_every_days,
        business_hours=values.business_hours,
        business_days=values.business_days,
        remind_before_minutes=values.remind_before_minutes,
        escalation={kind: [list(step) for step in steps] for kind, steps in values.escalation.items()},
        catch_up_stale_share=values.catch_up_stale_share,
        catch_up_overdue_next_steps=values.catch_up_overdue_next_steps,
        now=now,
    )
    tally.add("SLA policy", policy.name, created=created, fields=changed)


def _team_slas_apply(organisation: Organisation, teams: dict[str, Team], now: datetime, tally: _Tally) -> None:
    """A team that writes `sla:` gets its own policy: the organisation's values with the team's in their place.

    A team that no longer writes one follows the organisation's policy again. Without an organisation
    `sla:` in the file, a team's values override the policy in the database (or the defaults).
    """
    base = _spec_of(sla.policy_for(None))  # the organisation's, as just applied
    keep = set()
    for spec in organisation.teams or ():
        if spec.sla is not None:
            team = teams[spec.slug]
            own = sla.policy_for(team.pk)
            # A team policy set on a page or through the API is the base for the keys the file does not write; one the
            # file wrote follows the organisation's for them.
            _sla_apply(spec.sla.over(base if own.managed or own.team_id is None else _spec_of(own)), now, tally, team=team)
            keep.add(team.pk)
    for policy in sla.team_policies_deactivate(keep_team_ids=keep):
        tally.add("SLA policy", policy.name, action=DEACTIVATED)


def _spec_of(policy: SlaPolicy) -> SlaSpec:
    return SlaSpec(
        first_response_minutes=policy.first_response_minutes, attempts=policy.attempts, attempts_within_days=policy.attempts_within_days,
        progress_every_days=policy.progress_every_days, business_hours=policy.business_hours, business_days=policy.business_days,
        remind_before_minutes=policy.remind_before_minutes,
        escalation={kind: [(float(share), str(action)) for share, action in steps] for kind, steps in policy.escalation.items()},
        catch_up_stale_share=policy.catch_up_stale_share, catch_up_overdue_next_steps=policy.catch_up_overdue_next_steps,
    )


def _definition_apply(agreed: DefinitionSpec, now: datetime, tally: _Tally) -> None:
    previous = definition_active()
    definition, created = definition_publish(
        name=agreed.name,
        description=agreed.description,
        required=agreed.required,
        fit_rules=agreed.fit,
        threshold=agreed.threshold,
        signed_off_by=agreed.signed_off_by,
        now=now,
    )
    # Leads judged by the old version keep it; new leads are judged by this one.
    replaced = [f"replaces v{previous.version}"] if created and previous is not None else []
    tally.add("lead definition", f"v{definition.version} {definition.name!r}", created=created, fields=replaced)


# The demo: the example organisation with passwords anyone can type.


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: str
    password: str


@dataclass
class DemoSetup:
    report: ApplyReport
    logins: list[DemoLogin]
    keys: dict[str, str]  # source slug -> a live API key


def demo_password(role: str) -> str:
    """Every demo user of a role shares one password, e.g. demo-rep-pass: easy to type, never for real use."""
    return f"demo-{role}-pass"


def demo_load(*, organisation: Organisation, now: datetime, known_keys: dict[str, str]) -> DemoSetup:
    """Apply the demo organisation, give every person in it the demo password of their role,
    and make sure each source has a key whose plaintext we hold.

    `known_keys` are keys printed by an earlier run (source slug -> plaintext);
    one that still works is kept, so running the demo again does not break a
    script that uses it. One transaction.
    """
    with transaction.atomic():
        report = organisation_apply(organisation=organisation, now=now)
        keys = {key.source: key.plaintext for key in report.keys}
        for spec in organisation.sources or ():
            if spec.slug in keys:
                continue
            known = source_key_find(f"Bearer {known_keys.get(spec.slug, '')}")
            if known is not None and known.source.slug == spec.slug:
                keys[spec.slug] = known_keys[spec.slug]
            else:
                source = Source.objects.get(slug=spec.slug)
                keys[spec.slug] = intake.source_key_issue(source=source, now=now).plaintext
        people = [(user.email, user.name, user.role) for user in organisation.users or ()]
        people += [(rep.email, rep.name, Role.REP.value) for rep in organisation.reps or ()]
        users = {user.email: user for user in User.objects.filter(email__in=[email for email, _, _ in people])}
        for role in dict.fromkeys(role for _, _, role in people):
            accounts.users_password_set(users=[users[email] for email, _, r in people if r == role], password=demo_password(role))
    logins = [DemoLogin(email, name, role, demo_password(role)) for email, name, role in people]
    ordered = {spec.slug: keys[spec.slug] for spec in organisation.sources or ()}  # the file's order
    return DemoSetup(report=report, logins=logins, keys=ordered)


def organisation_is_empty() -> bool:
    """No team exists yet: nothing has been set up (the demo's --if-empty asks this)."""
    return not Team.objects.exists()

"""Service-level clocks follow the lead: started when a rep gets it, met by what they do, escalated when they run out.

- A rep becomes the owner (routing, queue hand-out, reassignment, an SLA reassignment): the former
  owner's pending clocks are cancelled and the new owner's start: first response always; attempts
  while nobody has had a conversation with the person yet; progress and next step when the lead is
  in progress.
- The owner touches the lead: first response and next step are met; attempts are met by a
  conversation (connected, or a meeting) or by enough touches; progress is met and starts again.
- An outcome: closed, every clock stops; in progress, first response, attempts, progress and the
  old next step are met, and progress and the new next step start.
- A clock's step comes (worker): a reminder to the owner; at the breach the breach is recorded,
  the manager alerted and, for first response, the lead goes to the next available rep of the
  team — or to the team queue when an earlier breach already moved it.

A merged inquiry changes no clock: a lead the owner never touched keeps its first-response clock.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Subquery

from leadbaton.accounts.models import Team, User
from leadbaton.core.calendar import WorkingTime
from leadbaton.core.due import Backoff, due_failed
from leadbaton.core.wakeup import work_queued
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Activity, Handoff, Lead, Owner, OwnerKind, Stage
from leadbaton.notify import queries as notify_queries
from leadbaton.notify import services as notify
from leadbaton.notify.card import card_for, cards_for
from leadbaton.notify.models import Event, Notification, OutboxMessage
from leadbaton.pipeline.announce import lead_announce
from leadbaton.pipeline.catch_up import catch_up_terms
from leadbaton.routing import queries as routing_queries
from leadbaton.routing.services import rep_choose
from leadbaton.sla import services as sla
from leadbaton.sla.models import Clock, Deadline, EscalationStep

log = logging.getLogger(__name__)
Action = EscalationStep.Action
# A deadline whose steps fail: tried again after these waits, then kept as a dead letter.
MOVES = (Action.REASSIGN, Action.QUEUE)  # steps that move the lead: taken one deadline at a time
STEP_RETRY = Backoff((timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)))


def clocks_follow_owner(lead: Lead, *, now: datetime, working_time: WorkingTime | None = None, new: bool = False, why: str = "") -> None:
    """The lead has a new owner (or was just created with one): stop the old owner's clocks, start a rep owner's.

    `new`: the lead was created a moment ago and has no clocks to stop. `working_time`: the rep's, when
    the caller has it already (routing does). The clocks start when the handoff was recorded (leads.lead_moment): a
    use case's `now` (the worker's, one for a whole batch) may be earlier than a change that came in meanwhile.
    """
    now = leads.lead_moment(lead, now)
    if not new:
        sla.deadlines_cancel(lead_id=lead.pk, now=now, why=why or "the lead changed hands")
    if lead.owner_kind != OwnerKind.REP or lead.owner_rep_id is None or not lead.is_open:
        return
    kinds: list[str] = [Clock.FIRST_RESPONSE]
    if new or not lead_queries.lead_had_conversation(lead.pk):
        kinds.append(Clock.ATTEMPTS)
    if lead.stage == Stage.IN_PROGRESS:
        kinds += [Clock.PROGRESS, Clock.NEXT_STEP]
    _start(lead, kinds, now, working_time=working_time)
    transaction.on_commit(work_queued)


def clocks_after_touch(lead: Lead, activity: Activity, *, now: datetime) -> None:
    """The owner (or anyone) logged an activity on the lead: meet what it satisfies. A note is no touch."""
    if not activity.is_touch:
        return
    pending = sla.deadlines_pending(lead.pk)
    conversation = activity.result == Activity.Result.CONNECTED or activity.kind == Activity.Kind.MEETING
    met = []
    for deadline in pending:
        if deadline.kind == Clock.FIRST_RESPONSE:
            met.append(deadline)
        elif deadline.kind == Clock.NEXT_STEP:
            # A touch does the next step only once it is near (from its first reminder on); an email days
            # before a call planned for Friday leaves Friday's call due.
            near = min((datetime.fromisoformat(step["at"]) for step in deadline.steps if step["do"] == Action.REMIND),
                       default=deadline.breach_at)
            if now >= near:
                met.append(deadline)
        elif deadline.kind == Clock.ATTEMPTS:
            needed = int(deadline.terms.get("touches", 0))
            done = lead.touch_count - int(deadline.terms.get("touches_at_start", 0))
            if conversation or done >= needed:
                met.append(deadline)
        elif deadline.kind == Clock.PROGRESS:
            met.append(deadline)
    sla.deadlines_meet(met, now=now, why=f"{activity.get_kind_display().lower()} logged")
    if lead.stage == Stage.IN_PROGRESS:
        _start(lead, [Clock.PROGRESS], now)  # the next touch or outcome is due within the progress window


def clocks_after_outcome(lead: Lead, *, now: datetime) -> None:
    """An outcome was recorded: a closed lead's clocks stop; an in-progress lead's start again from here."""
    if not lead.is_open:
        sla.deadlines_cancel(lead_id=lead.pk, now=now, why=f"the lead is {lead.get_stage_display().lower()}")
        return
    sla.deadlines_meet(sla.deadlines_pending(lead.pk), now=now, why="outcome recorded")
    if lead.stage == Stage.IN_PROGRESS:
        _start(lead, [Clock.PROGRESS, Clock.NEXT_STEP], now)


def _start(lead: Lead, kinds: list[str], now: datetime, *, working_time: WorkingTime | None = None) -> None:
    """Start these clocks for the lead's rep owner, under their team's policy; `working_time`: the rep's, when known."""
    if lead.owner_kind != OwnerKind.REP or lead.owner_rep_id is None:
        return
    if working_time is None:
        working_time = routing_queries.working_time_of(lead.owner_rep_id)
    policy = sla.policy_for(lead.owner_team_id)
    plans: dict[str, sla.Plan] = {}
    for kind in kinds:
        plan = sla.clock_plan(kind, policy=policy, start=now, working_time=working_time, due=lead.next_step_at)
        if plan is not None:
            if kind == Clock.ATTEMPTS:
                plan.terms["touches_at_start"] = lead.touch_count
            plans[kind] = plan
    sla.deadlines_start(lead_id=lead.pk, rep_id=lead.owner_rep_id, team_id=lead.owner_team_id, plans=plans, now=now)


# The worker: each step of each clock, once, when it comes.


@dataclass
class _Told:
    """What a run of steps says, written together at its end: notifications and outbox messages. Managers are looked up once."""

    notifications: list[Notification] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    managers: dict[int, User | None] = field(default_factory=dict)

    def manager_of(self, team_id: int | None) -> User | None:
        if team_id is None:
            return None
        if team_id not in self.managers:
            manager_id = Team.objects.filter(pk=team_id).values("manager_id")
            self.managers[team_id] = User.objects.filter(pk=Subquery(manager_id), is_active=True).first()
        return self.managers[team_id]

    def write(self) -> None:
        notify.notifications_write_all(self.notifications)
        notify.outbox_write_all(self.messages)
        if self.messages:
            transaction.on_commit(work_queued)


def deadlines_fire(deadline_ids: list[int], now: datetime) -> int:
    """Take the steps that have come of the claimed deadlines (worker.work). Returns how many steps were taken or skipped.

    Reminders, breaches and the manager's alerts of the whole batch are taken in one transaction, with a
    statement per kind of row rather than per step (thousands fall due in a minute). A deadline whose step
    moves the lead, or whose lead moved on, is fired in a transaction of its own, after; so is every
    deadline of a batch that failed together. One whose steps fail alone is tried again after STEP_RETRY
    and, when those tries run out, stays pending with its error and no due time (a dead letter `sla explain` shows).
    """
    try:
        with transaction.atomic():
            done, alone = _fire_together(deadline_ids, now)
    except Exception:
        log.warning("service-level deadlines %s failed together; firing each on its own", deadline_ids, exc_info=True)
        done, alone = 0, deadline_ids
    for deadline_id in alone:
        try:
            with transaction.atomic():
                done += _fire(deadline_id, now)
        except Exception:
            log.exception("service-level deadline %s failed; it is tried again later", deadline_id)
            with transaction.atomic():
                deadline = Deadline.objects.select_for_update().filter(pk=deadline_id, status=Deadline.Status.PENDING).first()
                if deadline is not None:  # gone with its lead, or met meanwhile: nothing to try again
                    deadline.save(update_fields=due_failed(deadline, error=traceback.format_exc(), now=now, backoff=STEP_RETRY))
    return done


def _due_steps(deadline: Deadline, now: datetime) -> list[sla.StepDone]:
    """The steps of a deadline whose time has come and that are not behind it; a reminder the breach overtook is skipped."""
    due = []
    for index in range(deadline.steps_taken, len(deadline.steps)):
        step = deadline.steps[index]
        if datetime.fromisoformat(step["at"]) > now:
            break
        late = step["do"] == Action.REMIND and deadline.breach_at <= now
        due.append(sla.StepDone(deadline, index, skipped=late, note="the breach came too: not sent" if late else step.get("label", "")))
    return due


def _fire_together(deadline_ids: list[int], now: datetime) -> tuple[int, list[int]]:
    """Fire the deadlines whose due steps only tell people, all at once. Returns (steps taken, the deadlines left to fire alone)."""
    # The leads first, then their clocks, each in id order: the order every use case that touches both takes.
    of_deadlines = Deadline.objects.filter(pk__in=deadline_ids).values("lead_id")
    leads = {lead.pk: lead for lead in Lead.objects.select_for_update(of=("self",)).select_related("owner_team", "owner_rep")
             .filter(pk__in=Subquery(of_deadlines)).order_by("pk")}
    deadlines = list(Deadline.objects.select_for_update(of=("self",)).select_related("rep").filter(pk__in=deadline_ids).order_by("pk"))
    due: dict[int, list[sla.StepDone] | None] = {}
    for deadline in deadlines:
        try:
            due[deadline.pk] = _due_steps(deadline, now)
        except (KeyError, TypeError, ValueError):  # a plan no code of ours writes: alone, it fails on record
            due[deadline.pk] = None
    # A lead one of its clocks moves (or whose clock is broken) has all its clocks of the batch fired alone, in
    # order: the move stops the others first, as it would have one at a time.
    apart = {deadline.lead_id for deadline in deadlines
             if due[deadline.pk] is None or any(deadline.steps[step.index]["do"] in MOVES for step in due[deadline.pk] or [])}
    together, alone, steps = [], [], {}
    for deadline in deadlines:
        lead, planned = leads.get(deadline.lead_id), due[deadline.pk]
        current = lead is not None and lead.is_open and lead.owner_kind == OwnerKind.REP and lead.owner_rep_id == deadline.rep_id
        if deadline.status != Deadline.Status.PENDING or not current or deadline.lead_id in apart or planned is None:
            alone.append(deadline.pk)
        else:
            together.append(deadline)
            steps[deadline.pk] = planned
    recorded = sla.steps_record([step for due in steps.values() for step in due], now=now)
    cards = cards_for([leads[deadline.lead_id] for deadline in together if any((deadline.pk, step.index) in recorded for step in steps[deadline.pk])])
    told, done = _Told(), 0
    for deadline in together:
        lead = leads[deadline.lead_id]
        for step in steps[deadline.pk]:
            if (deadline.pk, step.index) in recorded:
                if not step.skipped:
                    _take(deadline.steps[step.index]["do"], deadline, lead, now, told, cards[lead.pk])
                done += 1
        breached = any(deadline.steps[step.index]["do"] == Action.BREACH for step in steps[deadline.pk])
        sla.deadline_advanced(deadline, taken=deadline.steps_taken + len(steps[deadline.pk]), breached=breached)
    sla.deadlines_save_advanced(together)
    told.write()
    return done, alone


def _fire(deadline_id: int, now: datetime) -> int:
    """Fire one deadline: its steps in order, each recorded before it is taken, so a step that moves the lead comes after the breach."""
    of_deadline = Deadline.objects.filter(pk=deadline_id).values("lead_id")
    lead = Lead.objects.select_for_update(of=("self",)).select_related("owner_team", "owner_rep").filter(pk=Subquery(of_deadline)).first()
    if lead is None:
        return 0
    deadline = Deadline.objects.select_for_update(of=("self",)).get(pk=deadline_id)
    if deadline.status != Deadline.Status.PENDING:
        sla.deadline_advance(deadline, now=now, taken=deadline.steps_taken, breached=False)
        return 0
    if not lead.is_open or lead.owner_kind != OwnerKind.REP or lead.owner_rep_id != deadline.rep_id:
        # The world moved on without telling this clock (it should have been cancelled): stop it.
        sla.deadline_cancel(deadline, now=now, why="the lead changed hands or closed")
        return 0
    taken, breached, done = deadline.steps_taken, False, 0
    for step in _due_steps(deadline, now):
        action = deadline.steps[step.index]["do"]
        if sla.steps_record([step], now=now):
            if action == Action.BREACH:
                sla.deadline_breach(deadline)  # before what follows it: a reassignment stops only the clocks still running
            if not step.skipped:
                told = _Told()
                _take(action, deadline, lead, now, told, card_for(lead) if action not in MOVES else {})
                told.write()
            done += 1
        breached |= action == Action.BREACH
        taken = step.index + 1
    sla.deadline_advance(deadline, now=now, taken=taken, breached=breached)
    return done


def _take(action: str, deadline: Deadline, lead: Lead, now: datetime, told: _Told, card: dict[str, Any]) -> None:
    """Take one step; what it says goes to `told`."""
    kind = deadline.get_kind_display().lower()
    if action == Action.REMIND:
        left = _duration((deadline.breach_at - now).total_seconds())
        _tell(told, card, lead, lead.owner_rep, Event.SLA_REMINDER, f"{deadline.get_kind_display()} due in {left}: {_who(lead)}", deadline, now)
    elif action == Action.BREACH:
        late = int((now - deadline.started_at).total_seconds() // 60)
        _tell(told, card, lead, None, Event.SLA_BREACHED, f"SLA breached ({kind}, {late} min): {lead}", deadline, now)
    elif action == Action.ALERT_MANAGER:
        manager = told.manager_of(deadline.team_id or lead.owner_team_id)
        if manager is not None:
            owner = deadline.rep.display_name  # the clock's owner, even if a step before this one moved the lead
            _tell(told, card, lead, manager, Event.SLA_BREACHED, f"{owner} missed the {kind} time on {_who(lead)}", deadline, now, webhook=False)
    elif action in MOVES:
        _move_on(action, deadline, lead, now)


def _duration(seconds: float) -> str:
    """How long is left, as people say it: 45 s, 2 min, 5 h, 3 days."""
    seconds = max(seconds, 0)
    if seconds < 100:
        return f"{round(seconds)} s"
    if seconds < 100 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def _who(lead: Lead) -> str:
    """The lead as a subject line names it: the person, and their company when there is one."""
    return f"{lead} ({lead.company})" if lead.company and lead.company != str(lead) else str(lead)


def _move_on(action: str, deadline: Deadline, lead: Lead, now: datetime) -> None:
    """Reassign the lead to the next available rep of its team, or to the team's queue after an earlier SLA move."""
    team_id = lead.owner_team_id or deadline.team_id
    if team_id is None:
        return
    minutes = int((deadline.breach_at - deadline.started_at).total_seconds() // 60)
    note = f"SLA breach: {deadline.get_kind_display().lower()}, {minutes} min"
    moved_before = lead_queries.lead_moved_for(lead.pk, reason=Handoff.Reason.SLA_BREACH)
    rep = None
    if action == Action.REASSIGN and not moved_before:
        strategy = routing_queries.team_strategy(team_id)
        routed = rep_choose(team_id=team_id, strategy=strategy, company_domain="", now=now, exclude=(lead.owner_rep_id,),
                            catch_up=catch_up_terms(team_id))
        rep = routed.rep
    if rep is not None:
        leads.lead_set_owner(lead=lead, to=Owner.rep(rep.pk, team_id), at=now, reason=Handoff.Reason.SLA_BREACH, note=note, rule="escalation")
        lead.owner_rep = rep
        lead_announce(lead=lead, events=[Event.LEAD_REASSIGNED], now=now)
        clocks_follow_owner(lead, now=now, working_time=routed.working_time, why=note)
        return
    why = note + ("; moved once already" if moved_before else "; nobody else in the team can take it now")
    leads.lead_set_stage(lead=lead, stage=Stage.QUEUED, now=now)
    leads.lead_set_owner(lead=lead, to=Owner.team(team_id), at=now, reason=Handoff.Reason.SLA_BREACH, note=why, rule="escalation")
    lead.owner_rep = None
    clocks_follow_owner(lead, now=now, why=why)
    transaction.on_commit(work_queued)


def _tell(told: _Told, card: dict[str, Any], lead: Lead, to: User | None, event: str, headline: str, deadline: Deadline, now: datetime,
          *, webhook: bool = True) -> None:
    """A step's message: in the app and by email to `to` (None: nobody), and with `webhook` the event to its subscribers."""
    clock = {"kind": deadline.kind, "started_at": deadline.started_at.isoformat(), "breach_at": deadline.breach_at.isoformat()}
    if to is not None:
        told.notifications.append(notify.notification(user_id=to.pk, lead_id=lead.pk, event=event, title=headline, card=card, now=now))
        payload = {"headline": headline, "subject": headline, "card": card}
        if to.email:
            told.messages.append(notify.outbox_message(channel=OutboxMessage.Channel.EMAIL, event=event, payload=payload,
                                                       now=now, lead_id=lead.pk, recipient=to.email))
        # The owner's own chat for a reminder; the team's chat for the manager's alert.
        chats = notify_queries.chat_targets_for(team_id=None, rep_id=to.pk) if event == Event.SLA_REMINDER else (
            notify_queries.chat_targets_for(team_id=deadline.team_id, rep_id=None))
        told.messages += [notify.outbox_message(channel=OutboxMessage.Channel.CHAT, event=event, payload=payload, now=now,
                                                lead_id=lead.pk, chat_target=target) for target in chats]
    for subscribed, subscription in notify_queries.subscriptions_for([event]) if webhook else []:
        data = {"lead": card, "clock": clock, "owner": {"kind": lead.owner_kind, "team_id": lead.owner_team_id, "rep_id": lead.owner_rep_id}}
        told.messages.append(notify.outbox_message(channel=OutboxMessage.Channel.WEBHOOK, event=subscribed, payload=data,
                                                   now=now, lead_id=lead.pk, subscription=subscription))

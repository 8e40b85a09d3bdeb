"""Telling everyone who should know about a lead, in the transaction that changed it.

Each change writes its in-app notifications and its outbox messages (email,
chat, webhooks) together with the change; the worker delivers them after the
commit, woken at once when it runs in this process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from leadbaton.accounts.models import Team, User
from leadbaton.core.wakeup import work_queued
from leadbaton.leads.models import Inquiry, Lead, OwnerKind
from leadbaton.notify import queries as notify_queries
from leadbaton.notify import services as notify
from leadbaton.notify.card import card_for
from leadbaton.notify.models import Event, OutboxMessage

HEADLINES: dict[str, str] = {
    Event.LEAD_ASSIGNED: "New lead for you: {name}",
    Event.LEAD_REASSIGNED: "Lead handed to you: {name}",
    Event.LEAD_MERGED: "Your lead came back: {name}",
}


def queue_announce(*, lead: Lead, team: Team, why: str, now: datetime) -> None:
    """Tell the team's manager (in the app, by email, on the team's chat) that leads wait in the queue.

    Called for the lead that starts a burst; the leads that follow it in the
    same burst add nothing, so a trade show floods no inbox.
    """
    card = card_for(lead)
    headline = f"Leads are waiting in the {team.name} queue"
    payload = {"headline": headline, "subject": f"{headline}: nobody can take them now", "card": card, "why": why}
    messages = []
    # Read now: the team may come from the in-memory configuration, and the manager may have changed since.
    manager = User.objects.filter(pk=team.manager_id).first() if team.manager_id else None
    if manager is not None and manager.is_active:
        notify.notification_create(user_id=manager.pk, lead_id=lead.pk, event=Event.LEAD_QUEUED, title=headline, card=card, now=now)
        if manager.email:
            messages.append(notify.outbox_message(channel=OutboxMessage.Channel.EMAIL, event=Event.LEAD_QUEUED, payload=payload,
                                                  now=now, lead_id=lead.pk, recipient=manager.email))
    for target in notify_queries.chat_targets_for(team_id=team.pk, rep_id=None):
        messages.append(notify.outbox_message(channel=OutboxMessage.Channel.CHAT, event=Event.LEAD_QUEUED, payload=payload,
                                              now=now, lead_id=lead.pk, chat_target=target))
    notify.outbox_write_all(messages)
    transaction.on_commit(work_queued)


def lead_announce(*, lead: Lead, events: list[str], now: datetime, latest: Inquiry | None = None, why: dict[str, Any] | None = None,
                  in_app_only: bool = False) -> None:
    """Write what `events` mean for the lead's owner and for webhook subscribers. Call inside the change's transaction.

    The owner hears of an assignment or a reassignment, and of their lead coming
    back (a merged inquiry); subscribers get every event they subscribed to, with `why` (what a rejection or a
    recycling said) in the event's data. `in_app_only`: the owner is told in the app only, not by email or chat
    (one of many leads handed over at once: handover_announce then sends one email and one chat message for all).
    """
    subscriptions = notify_queries.subscriptions_for(events)
    personal = [event for event in events if event in HEADLINES]
    rep = lead.owner_rep if lead.owner_kind == OwnerKind.REP else None
    if not subscriptions and not (personal and rep):
        return
    card = card_for(lead, latest=latest)
    messages: list[OutboxMessage] = []
    for event, subscription in subscriptions:
        data = {"lead": card, "owner": {"kind": lead.owner_kind, "team_id": lead.owner_team_id, "rep_id": lead.owner_rep_id}, **(why or {})}
        messages.append(notify.outbox_message(channel=OutboxMessage.Channel.WEBHOOK, event=event, payload=data,
                                              now=now, lead_id=lead.pk, subscription=subscription))
    if rep is not None and personal:
        event = personal[-1]
        headline = HEADLINES[event].format(name=card["name"])
        payload = {"headline": headline, "subject": f"{headline} ({card['company'] or card['email'] or card['phone']})", "card": card}
        notify.notification_create(user_id=rep.pk, lead_id=lead.pk, event=event, title=headline, card=card, now=now)
        if in_app_only:
            notify.outbox_write_all(messages)
            transaction.on_commit(work_queued)
            return
        if rep.email:
            messages.append(notify.outbox_message(channel=OutboxMessage.Channel.EMAIL, event=event, payload=payload,
                                                  now=now, lead_id=lead.pk, recipient=rep.email))
        for target in notify_queries.chat_targets_for(team_id=lead.owner_team_id, rep_id=rep.pk):
            messages.append(notify.outbox_message(channel=OutboxMessage.Channel.CHAT, event=event, payload=payload,
                                                  now=now, lead_id=lead.pk, chat_target=target))
    notify.outbox_write_all(messages)
    transaction.on_commit(work_queued)


def handover_announce(*, rep: User, leads: list[Lead], by: User, reason: str, now: datetime) -> None:
    """One email and one chat message to a rep handed several leads at once (each lead is in their app already):
    who handed them over, why, and each lead with its link. Call in a transaction."""
    if not leads or not rep.is_active:
        return
    cards = [card_for(lead) for lead in leads]
    headline = " ".join(f"{len(leads)} lead{'s' if len(leads) != 1 else ''} handed to you by {by.display_name}".split())
    why = " ".join(reason.split())  # one line: an email subject holds no line break
    payload = {"headline": headline, "subject": f"{headline}: {why[:80]}", "why": why,
               "digest": [{"name": card["name"], "company": card["company"], "link": card["link"]} for card in cards]}
    messages = []
    if rep.email:
        messages.append(notify.outbox_message(channel=OutboxMessage.Channel.EMAIL, event=Event.LEAD_REASSIGNED, payload=payload,
                                              now=now, recipient=rep.email))
    for target in notify_queries.chat_targets_for(team_id=leads[0].owner_team_id, rep_id=rep.pk):
        messages.append(notify.outbox_message(channel=OutboxMessage.Channel.CHAT, event=Event.LEAD_REASSIGNED, payload=payload,
                                              now=now, chat_target=target))
    notify.outbox_write_all(messages)
    transaction.on_commit(work_queued)

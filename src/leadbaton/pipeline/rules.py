"""Replacing the routing rules, from the API or the settings page: who may, and what a refused list says."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError

from leadbaton.accounts.models import Role, User
from leadbaton.accounts.queries import teams_not_managed_by
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed
from leadbaton.routing.models import RoutingRule
from leadbaton.routing.services import RulesInvalid, rules_replace


def rules_save(*, by: User, rules: list[dict[str, Any]]) -> list[RoutingRule]:
    """Make the active routing rules exactly `rules`, in order (routing.services.rules_replace).

    Admins, and managers who manage every active team: a rule anywhere in the list changes which leads
    every team after it gets. Refuses with NotAllowed, Invalid (every problem, by path such as
    `rules[2].when[0].in`; nothing changes) or Conflict (another replacement at the same moment).
    """
    if not (by.is_superuser or by.role == Role.ADMIN):
        if by.role != Role.MANAGER:
            raise NotAllowed.one("role", f"only admins and managers change the routing rules; you are {Role(by.role).label.lower()}")
        if others := teams_not_managed_by(by.pk):
            raise NotAllowed.one(
                "role",
                "the routing rules decide between all teams (each rule's place decides which leads the teams after it get), "
                f"so an admin or a manager of every team replaces them; you do not manage {', '.join(others)}",
            )
    try:
        return rules_replace(rules=rules)
    except RulesInvalid as error:
        raise Invalid([{"field": path, "message": message} for path, message in error.problems]) from None
    except IntegrityError:  # another replacement created a rule of the same name at the same moment
        raise Conflict.one("rules", "the rules were changed at the same moment; read them again and retry") from None


def may_save_rules(by: User) -> bool:
    return by.is_superuser or by.role == Role.ADMIN or (by.role == Role.MANAGER and not teams_not_managed_by(by.pk))

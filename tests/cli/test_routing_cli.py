"""`leadbaton routing explain`: why each rep could or could not take a lead, printed for a person at a terminal."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leadbaton.accounts.models import RepProfile, Role, User
from leadbaton.routing.models import RoutingRule


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_explain_prints_every_reps_reasons_and_the_handoffs(org, intake):
    for name, profile in (("Jonas", {"paused": True, "pause_reason": "training"}),
                          ("Sofia", {"daily_cap": 2, "assigned_on": date(2026, 11, 25), "assigned_count": 2})):
        user = User.objects.create_user(f"{name.lower()}@example.com", "pw", name=name, role=Role.REP)
        RepProfile.objects.create(user=user, team=org.emea, time_zone="Europe/Berlin", hours={"wed": [["00:00", "24:00"]]}, **profile)
    lead = intake.post({"email": "dana@northwind.example", "first_name": "Dana"}).json()

    output = run("routing", "explain", str(lead["id"]))

    assert f"Lead {lead['id']} (Dana): queued, owned by EMEA queue" in output
    assert "team EMEA (emea) by default team, strategy round_robin" in output
    assert "nobody in EMEA can take a lead now" in output
    assert "outside working hours (wed 09:00-17:00, Europe/Berlin; it is 21:00 there)" in output
    assert "paused (training)" in output
    assert "daily cap reached (2 of 2 new leads today)" in output
    assert "(new)" in output
    assert "routed" in output
    with pytest.raises(CommandError, match="no lead 999"):
        run("routing", "explain", "999")


def test_rules_lists_them_in_the_order_they_are_tried(org):
    RoutingRule.objects.create(position=1, name="Rest", conditions=[], team=org.emea)
    RoutingRule.objects.create(position=0, name="Americas", conditions=[{"field": "country", "in": ["US", "CA"]}], team=org.amer, managed=True)
    output = run("routing", "rules")
    assert output.index("Americas") < output.index("Rest")
    assert "country in US, CA" in output
    assert "every lead" in output

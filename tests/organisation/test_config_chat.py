"""Chat targets in the organisation file: apprise URLs per team and per rep, applied idempotently, never printed in full."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from django.core.management import call_command
from django.test import Client

from leadbaton.core import clock
from leadbaton.notify.models import ChatTarget
from leadbaton.organisation.apply import ApplyReport, organisation_apply
from leadbaton.organisation.file import OrgFileError, orgfile_parse
from leadbaton.worker.loop import Worker
from tests.receivers import HttpReceiver

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"  # the shape of a Slack webhook; not a real token
TELEGRAM = "tgram://123456789:AAFsecretBotToken/12315544"
MATTERMOST = "mmost://mattermost.example.com/abcdefghijklmnopqrstuvwxyz"


def org_with_chat(*, team_chat: list[Any] | None, rep_chat: list[Any] | None = None) -> dict[str, Any]:
    team: dict[str, Any] = {"slug": "emea", "name": "EMEA", "time_zone": "Europe/Berlin", "default": True}
    rep: dict[str, Any] = {"email": "alice@northwind.example", "name": "Alice", "team": "emea", "hours": "mon-fri 00:00-24:00"}
    if team_chat is not None:
        team["chat"] = team_chat
    if rep_chat is not None:
        rep["chat"] = rep_chat
    return {"sources": [{"slug": "website", "name": "Website"}], "teams": [team], "reps": [rep]}


def apply(org: dict[str, Any]) -> ApplyReport:
    return organisation_apply(organisation=orgfile_parse(yaml.safe_dump(org, sort_keys=False)), now=clock.now())


def targets() -> list[tuple[str, str, str, bool]]:
    """(owner, label, url, active) of every chat target."""
    return [
        (target.team.slug if target.team else target.rep.email, target.label, target.url, target.active)
        for target in ChatTarget.objects.select_related("team", "rep").order_by("id")
    ]


def test_it_creates_chat_targets_for_a_team_and_a_rep(db: None) -> None:
    report = apply(org_with_chat(team_chat=[SLACK, MATTERMOST], rep_chat=[TELEGRAM]))

    assert targets() == [
        ("emea", "slack://T...2", SLACK, True),
        ("emea", "mmost://mattermost.example.com", MATTERMOST, True),
        ("alice@northwind.example", "tgram://1...n", TELEGRAM, True),
    ]
    assert report.count("created") == 6  # source, team, rep and three chat targets
    printed = "\n".join(report.lines())
    assert f"created      chat target #{ChatTarget.objects.get(url=SLACK).pk} slack://T...2 of team emea" in printed
    for secret in ("A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ", "AAFsecretBotToken", "abcdefghijklmnop", "12315544"):
        assert secret not in printed


def test_applying_again_changes_nothing_and_a_removed_url_is_switched_off(db: None) -> None:
    apply(org_with_chat(team_chat=[SLACK, MATTERMOST], rep_chat=[TELEGRAM]))
    assert apply(org_with_chat(team_chat=[SLACK, MATTERMOST], rep_chat=[TELEGRAM])).lines() == ["nothing changed (6 unchanged)"]

    report = apply(org_with_chat(team_chat=[MATTERMOST], rep_chat=[]))

    assert [(label, active) for _, label, _, active in targets()] == [
        ("slack://T...2", False), ("mmost://mattermost.example.com", True), ("tgram://1...n", False),
    ]
    assert report.count("deactivated") == 2
    assert ChatTarget.objects.count() == 3  # switched off, never deleted: the delivery log keeps pointing at them

    apply(org_with_chat(team_chat=[SLACK, MATTERMOST]))
    assert [active for *_, active in targets()] == [True, True, False]  # back on; the rep's, not mentioned, left as it was


def test_it_leaves_chat_targets_alone_when_the_file_does_not_say(db: None) -> None:
    apply(org_with_chat(team_chat=[SLACK]))
    report = apply(org_with_chat(team_chat=None))
    assert [active for *_, active in targets()] == [True]
    assert not report.changed


def test_it_names_the_path_of_a_url_apprise_does_not_understand_without_printing_it(db: None, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(OrgFileError) as raised:
        orgfile_parse(yaml.safe_dump(org_with_chat(team_chat=[SLACK, "slak://x"], rep_chat=[42, "tgarm://123456789:secretsecret/1", TELEGRAM, TELEGRAM])))

    assert raised.value.errors == [
        'teams[0].chat[1]: "slak://x" is not an apprise URL apprise understands; see https://github.com/caronc/apprise/wiki for the URL of each service',
        "reps[0].chat[0]: 42 is not an apprise notification URL such as slack://…, mmost://… or tgram://…",
        'reps[0].chat[1]: "tgarm://1...t" is not an apprise URL apprise understands; see https://github.com/caronc/apprise/wiki for the URL of each service',
        "reps[0].chat[3]: is the same URL as reps[0].chat[2]; list each once",
    ]
    assert "secretsecret" not in "\n".join(raised.value.errors)
    assert "secretsecret" not in caplog.text  # apprise would log the whole URL
    assert ChatTarget.objects.count() == 0


def test_the_cli_summary_never_prints_a_chat_url_in_full(db: None, tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(org_with_chat(team_chat=[SLACK], rep_chat=[TELEGRAM])))
    out = io.StringIO()

    call_command("config", "apply", str(path), stdout=out)

    assert f"chat target #{ChatTarget.objects.get(url=SLACK).pk} slack://T...2 of team emea" in out.getvalue()
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in out.getvalue()
    assert "AAFsecretBotToken" not in out.getvalue()


def test_a_team_chat_from_the_file_hears_of_a_lead_assigned_to_its_rep(db: None) -> None:
    with HttpReceiver() as receiver, time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), tick=True):
        report = apply(org_with_chat(team_chat=[f"json://127.0.0.1:{receiver.port}/chat"]))
        key = report.keys[0].plaintext
        answer = Client(headers={"Authorization": f"Bearer {key}"}).post(
            "/api/v1/leads", {"email": "dana@northwind.example", "first_name": "Dana"}, content_type="application/json"
        )
        assert answer.json()["owner"]["name"] == "Alice"
        Worker(poll_seconds=0).tick()

    [request] = receiver.requests
    assert json.loads(request.body)["title"] == "New lead for you: Dana"

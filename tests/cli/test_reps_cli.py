"""`leadbaton reps pause | resume`: the operator, or a manager named with --by, pauses a rep and lets them take leads again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leadbaton.accounts.models import RepProfile


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_pauses_with_a_reason_and_resumes(org):
    assert run("reps", "pause", org.alice.email, "--reason", "sick leave", "--by", org.manager.email) == "Alice Rep of EMEA is paused (sick leave)\n"
    assert (RepProfile.objects.get(user=org.alice).paused, RepProfile.objects.get(user=org.alice).pause_reason) == (True, "sick leave")

    assert run("reps", "resume", org.alice.email.upper()) == "Alice Rep of EMEA is taking new leads\n"
    assert not RepProfile.objects.get(user=org.alice).paused


def test_it_says_what_is_wrong(org):
    with pytest.raises(CommandError, match="reason: is required"):
        run("reps", "pause", org.alice.email, "--reason", " ")
    with pytest.raises(CommandError, match="EMAIL: no user with email 'nobody@example\\.com'"):
        run("reps", "pause", "nobody@example.com", "--reason", "training")
    with pytest.raises(CommandError, match="--by: no user with email"):
        run("reps", "resume", org.alice.email, "--by", "nobody@example.com")
    with pytest.raises(CommandError, match=f"rep_id: there is no rep {org.manager.pk}"):
        run("reps", "pause", org.manager.email, "--reason", "training")
    with pytest.raises(CommandError, match="role: only managers and admins pause and resume reps"):
        run("reps", "pause", org.alice.email, "--reason", "training", "--by", org.bob.email)
    assert not RepProfile.objects.filter(paused=True).exists()

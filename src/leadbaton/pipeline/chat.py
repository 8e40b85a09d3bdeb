"""A team's or a rep's chat targets from the settings pages: apprise URLs (Slack, Teams, Mattermost, Telegram, SMS…)
that get the same news as the app. Who may: an admin, or the manager of the team (of the rep's team). A URL may hold a
token: it is never shown again, only its scheme and host."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from leadbaton.accounts.models import RepProfile, Team, User
from leadbaton.core.refusals import Invalid, NotFound
from leadbaton.notify import services as notify
from leadbaton.notify.models import ChatTarget
from leadbaton.pipeline.ownership import may_manage, may_manage_teams_check, rep_profile_locked

URL_MAX = ChatTarget._meta.get_field("url").max_length or 1000


def chat_target_add(*, by: User, url: str, now: datetime, team_slug: str = "", rep_id: int | None = None) -> ChatTarget:
    """Send a team's (team_slug) or a rep's (rep_id) news to this apprise URL too. Refuses with NotFound or Invalid on `url`."""
    may_manage_teams_check(by, doing="change chat targets")
    url = url.strip()
    if not url:
        raise Invalid.one("url", "is required: an apprise notification URL such as slack://…, mmost://… or tgram://…")
    if len(url) > URL_MAX:
        raise Invalid.one("url", f"is {len(url)} characters long; at most {URL_MAX} fit")
    if not notify.chat_url_understood(url):
        raise Invalid.one("url", f'"{notify.chat_url_shown(url)}" is not an apprise URL apprise understands; '
                                 "see https://github.com/caronc/apprise/wiki for the URL of each service")
    with transaction.atomic():
        if rep_id is not None:
            target, _, _ = notify.chat_target_configure(team_id=None, rep_id=rep_profile_locked(rep_id, by).user_id, url=url)
        else:
            team = Team.objects.filter(slug=team_slug).first()
            if team is None or not may_manage(by, [team]):
                raise NotFound.one("slug", f"there is no team {team_slug[:60]!r}{'' if may_manage(by, []) else ' you manage'}")
            target, _, _ = notify.chat_target_configure(team_id=team.pk, rep_id=None, url=url)
    return target


def chat_target_remove(*, by: User, target_id: int, now: datetime) -> ChatTarget:
    """Stop sending to one chat target of a team or rep `by` manages (another's is no target: NotFound)."""
    may_manage_teams_check(by, doing="change chat targets")
    with transaction.atomic():
        target = ChatTarget.objects.select_related("team").filter(pk=target_id, active=True).first()
        teams = [target.team] if target is not None and target.team is not None else []
        if target is not None and target.rep_id is not None:
            profile = RepProfile.objects.select_related("team").filter(user_id=target.rep_id).first()
            teams = [profile.team] if profile is not None else []
        if target is None or not may_manage(by, teams):
            raise NotFound.one("target_id", f"there is no chat target {target_id} of yours; it may have been removed already")
        notify.chat_target_switch_off(target=target)
    return target

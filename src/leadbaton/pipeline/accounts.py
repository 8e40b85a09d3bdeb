"""A person's own account: the email that lets them set a new password when they forgot theirs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from leadbaton.accounts.models import User
from leadbaton.notify import queries as notify_queries
from leadbaton.notify import services as notify
from leadbaton.notify.models import AccountEmail

log = logging.getLogger(__name__)
# However often the form is sent for one address, one email in this long: a mailbox is not to be flooded through us.
RESET_EMAIL_EVERY = timedelta(minutes=5)


def password_reset_email(*, user: User, link: str, now: datetime) -> bool:
    """Queue the email with the link that sets a new password for `user` (through the outbox, as every email).
    False when one went to the address less than RESET_EMAIL_EVERY ago: that one's link still works."""
    with transaction.atomic():
        if notify_queries.account_email_sent_since(recipient=user.email, event=AccountEmail.PASSWORD_RESET, since=now - RESET_EMAIL_EVERY):
            log.info("password reset for %s asked again within %s; the earlier email's link still works", user.email, RESET_EMAIL_EVERY)
            return False
        minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        notify.account_email(
            recipient=user.email, event=AccountEmail.PASSWORD_RESET, now=now,
            subject="Set a new LeadBaton password",
            lines=[f"Hello {user.display_name},",
                   f"someone (we hope you) asked to set a new password for {user.email} on LeadBaton. The link below works "
                   f"once, for {minutes} minutes.",
                   "If it was not you, ignore this email: your password stays as it is."],
            link=link, link_text="Set a new password",
        )
    return True


def invitation_email(*, user: User, link: str, by: User, now: datetime) -> None:
    """Queue the email that tells someone an account was made for them, with the link that sets their first password
    (the password reset's link: it works once, for LEADBATON_PASSWORD_RESET_MINUTES)."""
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    notify.account_email(
        recipient=user.email, event=AccountEmail.PASSWORD_RESET, now=now,
        subject="Your LeadBaton account",
        lines=[f"Hello {user.display_name},",
               f"{by.display_name} made a LeadBaton account for you ({user.email}). Set your password with the link below: "
               f"it works once, for {minutes} minutes; after that, use \"Forgot your password?\" on the sign-in page."],
        link=link, link_text="Set your password",
    )

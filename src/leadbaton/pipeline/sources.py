"""Sources and their API keys from the settings pages: admins add a source, issue a key (shown once) and revoke one.

Values are read by the organisation file's own reader (core.values), so the page accepts what the file does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from leadbaton.accounts.models import Role, User
from leadbaton.core.refusals import Invalid, NotAllowed, NotFound
from leadbaton.core.values import Entry, country_read, entry_errors, slug_read
from leadbaton.intake import services as intake
from leadbaton.intake.models import Source, SourceKey

SOURCE_KEYS = ("slug", "name", "kind", "default_region")
KEYLESS = (Source.Kind.MANUAL,)  # typed in the app by staff: nothing sends to it with a key


def source_add(*, by: User, values: dict[str, Any], now: datetime) -> intake.IssuedKey:
    """A new source with its first key (its plaintext only in the answer). Refuses with Invalid naming each field."""
    _admin_only(by)
    problems: list[str] = []
    entry = Entry(values, "", SOURCE_KEYS, problems, "a source")
    slug = slug_read(entry, "slug")
    name = entry.text("name", hint="a name people recognise, such as Website form", required=True)
    kind = entry.choice("kind", tuple(kind for kind in Source.Kind.values if kind not in KEYLESS), default=Source.Kind.API.value)
    region = country_read(entry, "default_region", entry.text("default_region", hint="an ISO country code such as US", max_length=10))
    if slug and Source.objects.filter(slug=slug).exists():
        entry.fail("slug", f"{slug!r} is the slug of a source already; choose another (to re-key it, issue a new key on it)")
    if problems:
        raise Invalid(entry_errors(problems))
    try:
        with transaction.atomic():
            return intake.source_create(slug=slug, name=name, kind=kind, default_region=region, now=now)
    except IntegrityError:  # made at the same moment by someone else
        raise Invalid.one("slug", f"{slug!r} is the slug of a source already; choose another") from None


def source_key_new(*, by: User, slug: str, now: datetime) -> intake.IssuedKey:
    """Another live key for the source (the old ones keep working until revoked): to rotate a key without a gap."""
    _admin_only(by)
    with transaction.atomic():
        source = _source(slug)
        if source.kind in KEYLESS:
            raise Invalid.one("slug", f"{source.name} is for leads typed in the app; it takes no key")
        return intake.source_key_issue(source=source, now=now)


def source_key_revoke(*, by: User, slug: str, key_id: int, now: datetime) -> SourceKey:
    """Revoke one key: requests with it answer 401 from now on. Revoking a revoked key changes nothing."""
    _admin_only(by)
    with transaction.atomic():
        key = SourceKey.objects.select_related("source").filter(pk=key_id, source__slug=slug).first()
        if key is None:
            raise NotFound.one("key_id", f"the source {slug!r} has no key {key_id}")
        intake.source_key_revoke(key=key, now=now)
    return key


def _source(slug: str) -> Source:
    source = Source.objects.filter(slug=slug).first()
    if source is None:
        raise NotFound.one("slug", f"there is no source {slug!r}")
    return source


def _admin_only(by: User) -> None:
    if not (by.is_superuser or by.role == Role.ADMIN):
        raise NotAllowed.one("role", f"only admins manage sources and their keys; you are {Role(by.role).label.lower()}")

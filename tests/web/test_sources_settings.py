"""The sources page: admins add a source and get its key once, issue another key and revoke one; the intake API
follows at once. Every refused value is said next to its field; nobody but an admin may see or change sources."""

from __future__ import annotations

import re

import pytest

from leadbaton.core import clock
from leadbaton.intake.models import Source, SourceKey
from leadbaton.intake.services import manual_source
from leadbaton.leads.models import Lead
from tests.conftest import IntakeClient
from tests.web.test_board import page_of, post_as
from tests.web.test_settings import field_error, post_and_follow

SOURCE = {"name": "Trade show scanner", "slug": "expo", "kind": "event", "default_region": "de"}


def key_shown(page: str) -> str:
    found = re.search(r'<code class="secret">(lb_src_[^<]+)</code>', page)
    assert found is not None, page[-2000:]
    return found[1]


def test_an_admin_adds_a_source_and_its_key_works_at_once(org, db):
    status, page, _ = post_as(org.admin, "/settings/sources/", SOURCE)
    assert status == 200
    key = key_shown(page)
    assert "it is shown only this once" in page
    source = Source.objects.get(slug="expo")
    assert (source.name, source.kind, source.default_region) == ("Trade show scanner", "event", "DE")
    answer = IntakeClient(key).post({"email": "kim@expo.example", "phone": "030 1234567"})
    assert answer.status_code == 201, answer.json()
    assert Lead.objects.get(pk=answer.json()["id"]).phone == "+49301234567"  # read as a German number, as the source says
    assert key not in page_of(org.admin, "/settings/sources/")[1]  # never shown again


def test_a_new_key_then_revoking_the_old_one_changes_keys_without_a_gap(org, source):
    old = source.plaintext
    status, page, _ = post_as(org.admin, "/settings/sources/website/keys/", {})
    assert status == 200
    new = key_shown(page)
    assert IntakeClient(old).post({"email": "a@example.com"}).status_code == 201
    assert IntakeClient(new).post({"email": "b@example.com"}).status_code == 201
    status, page = post_and_follow(org.admin, f"/settings/sources/website/keys/{source.key.pk}/revoke/", {})
    assert status == 200
    assert f"Key {source.key.prefix}… of Website contact form is revoked" in page
    assert IntakeClient(old).post({"email": "c@example.com"}).status_code == 401
    assert IntakeClient(new).post({"email": "d@example.com"}).status_code == 201


def test_every_refused_value_is_said_next_to_its_field_and_kept(org, source):
    wrong = {"name": "", "slug": "Trade Show", "kind": "fax", "default_region": "UK"}
    status, page, _ = post_as(org.admin, "/settings/sources/", wrong)
    assert status == 400
    assert field_error(page, "name").startswith("is required")
    assert "is not a slug; use lower-case letters, digits, - and _ (such as trade-show)" in field_error(page, "slug")
    assert field_error(page, "kind").startswith("&quot;fax&quot; is not one of api, form, ad, event, phone, csv")
    assert "the United Kingdom is GB" in field_error(page, "default_region")
    assert 'value="Trade Show"' in page
    assert 'value="UK"' in page
    status, page, _ = post_as(org.admin, "/settings/sources/", {**SOURCE, "slug": "website"})
    assert status == 400
    assert field_error(page, "slug").startswith("&#x27;website&#x27; is the slug of a source already")
    assert Source.objects.count() == 1


def test_a_key_is_revoked_only_through_its_own_source(org, source):
    other = post_as(org.admin, "/settings/sources/", SOURCE)[1]
    assert key_shown(other)
    status, _, _ = post_as(org.admin, f"/settings/sources/expo/keys/{source.key.pk}/revoke/", {})
    assert status == 404
    assert SourceKey.objects.get(pk=source.key.pk).revoked_at is None


def test_the_manual_source_takes_no_key(org, db):
    manual_source(now=clock.now())
    status, page = page_of(org.admin, "/settings/sources/")
    assert "typed in the app; no key" in page
    assert "/settings/sources/manual/keys/" not in page
    status, page, _ = post_as(org.admin, "/settings/sources/manual/keys/", {})
    assert status == 400
    assert not SourceKey.objects.exists()


@pytest.mark.parametrize("who", ["manager", "marketer", "alice"])
def test_only_admins_see_or_change_sources(org, source, who):
    user = getattr(org, who)
    assert page_of(user, "/settings/sources/")[0] == 403
    assert post_as(user, "/settings/sources/", SOURCE)[0] == 403
    assert post_as(user, "/settings/sources/website/keys/", {})[0] == 403
    assert post_as(user, f"/settings/sources/website/keys/{source.key.pk}/revoke/", {})[0] == 403
    assert SourceKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert not Source.objects.filter(slug="expo").exists()

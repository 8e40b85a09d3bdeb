from __future__ import annotations

import pytest
from django.test import Client

from leadbaton.core import clock
from leadbaton.intake.services import source_create


@pytest.fixture
def web_form(db: None) -> Client:
    """A client posting to the intake API as the website's form does."""
    key = source_create(slug="website", name="Website", now=clock.now()).plaintext
    return Client(headers={"Authorization": f"Bearer {key}"})

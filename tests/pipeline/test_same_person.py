"""Property: the same person twice is one lead, however they write their details."""

from __future__ import annotations

import json

import phonenumbers
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from leadbaton.accounts.models import Team
from leadbaton.core import clock
from leadbaton.intake.services import source_create
from leadbaton.leads.models import Inquiry, Lead

names = st.from_regex(r"[a-z]{1,12}(\.[a-z]{1,8})?", fullmatch=True)
domains = st.sampled_from(["northwind.example", "contoso.example", "gmail.com", "fabrikam.co.uk"])
regions = st.sampled_from(["US", "GB", "DE", "FR", "AU"])


@st.composite
def people(draw):
    region = draw(regions)
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    return {
        "email": f"{draw(names)}@{draw(domains)}",
        "phone": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "national": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        "region": region,
    }


@st.composite
def ways_of_writing(draw, person):
    """The same person as another form might send them: other case, padding, phone written nationally."""
    choice = draw(st.sampled_from(["email", "phone", "both"]))
    body = {}
    if choice in ("email", "both"):
        email = person["email"]
        body["email"] = draw(st.sampled_from(["", " ", "\t"])) + (email.upper() if draw(st.booleans()) else email.title())
    if choice in ("phone", "both"):
        body["phone"] = person["national"]
        body["country"] = person["region"]
    return body


class SamePersonTwice(TestCase):
    def setup_example(self) -> None:
        super().setup_example()  # each example runs in a transaction of its own, rolled back after it
        Team.objects.create(slug="emea", name="EMEA", is_default=True)
        key = source_create(slug="web", name="Web", now=clock.now()).plaintext
        self.client = Client(headers={"Authorization": f"Bearer {key}"})

    def post(self, body: dict) -> dict:
        answer = self.client.post("/api/v1/leads", json.dumps(body), content_type="application/json")
        assert answer.status_code in (200, 201), answer.json()
        return answer.json()

    @settings(max_examples=40, deadline=None)
    @given(data=st.data())
    def test_it_makes_one_lead_of_the_same_person_written_two_ways(self, data):
        person = data.draw(people())
        first = self.post({"email": person["email"], "phone": person["phone"], "message": "first"})
        second = self.post({**data.draw(ways_of_writing(person)), "message": "second"})
        assert second["id"] == first["id"]
        assert second["merged"] is True
        assert Lead.objects.count() == 1
        assert list(Inquiry.objects.values_list("message", flat=True)) == ["first", "second"]

    @settings(max_examples=25, deadline=None)
    @given(a=people(), b=people())
    def test_it_keeps_two_different_people_apart(self, a, b):
        if a["email"].lower() == b["email"].lower() or a["phone"] == b["phone"]:
            return
        first = self.post({"email": a["email"], "phone": a["phone"]})
        second = self.post({"email": b["email"], "phone": b["phone"]})
        assert first["id"] != second["id"]

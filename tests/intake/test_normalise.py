"""Understanding the person: emails, phones, countries and company sizes."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbaton.intake.normalise import (
    Unreachable,
    company_size_parse,
    country_code,
    email_normalise,
    person_from_payload,
    phone_normalise,
)

local_parts = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._+-]{0,20}[a-zA-Z0-9]", fullmatch=True).filter(lambda s: ".." not in s)
domains = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,8}(-[a-zA-Z0-9]{1,6})?\.(com|de|co\.uk|io|example)", fullmatch=True)


def test_it_trims_the_email_and_lower_cases_its_domain():
    assert email_normalise("  Dana.Whitfield@NorthWind.EXAMPLE ") == (
        "Dana.Whitfield@northwind.example",
        "dana.whitfield@northwind.example",
        "northwind.example",
    )


@given(local=local_parts, domain=domains, pad=st.sampled_from(["", " ", "\t", "  "]))
def test_it_recognises_an_email_however_it_is_cased_or_padded(local, domain, pad):
    canonical = email_normalise(f"{local}@{domain}")
    variant = email_normalise(f"{pad}{local.swapcase()}@{domain.upper()}{pad}")
    assert variant[1] == canonical[1]
    assert variant[2] == domain.lower()
    assert email_normalise(canonical[0]) == canonical  # normalising is idempotent


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (415) 555-0134", "", "+14155550134"),
        ("415.555.0134", "US", "+14155550134"),
        ("030 1234567", "DE", "+49301234567"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0049 30 1234567", "DE", "+49301234567"),
    ],
)
def test_it_writes_phones_in_e164(raw, region, expected):
    assert phone_normalise(raw, region=region) == expected


@pytest.mark.parametrize("raw", ["12", "not a phone", "+1 555", "415 555 0134"])
def test_it_refuses_phones_it_cannot_read(raw):
    assert phone_normalise(raw, region="") is None


@given(st.sampled_from(["US", "GB", "DE", "FR", "SG", "AU", "BR", "JP", "IN"]), st.integers(min_value=0, max_value=50))
def test_it_gives_the_same_e164_for_any_way_of_writing_a_valid_number(region, index):
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert phone_normalise(e164) == e164
    assert phone_normalise(international) == e164
    assert phone_normalise(national, region=region) == e164
    assert phone_normalise(phone_normalise(national, region=region) or "") == e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("US", "US"), ("usa", "US"), ("DEU", "DE"), ("Germany", "DE"), ("united kingdom", "GB"), ("UK", "GB"),
     ("  France ", "FR"), ("Atlantis", None), ("", None)],
)
def test_it_reads_countries_from_codes_and_english_names(raw, expected):
    assert country_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(250, 250), ("250", 250), ("1,000", 1000), ("51-200", 51), ("5000+", 5000), ("lots", None), (-3, None)],
)
def test_it_reads_company_sizes(raw, expected):
    assert company_size_parse(raw) == expected


def test_it_accepts_a_phone_only_lead():
    person = person_from_payload({"phone": "+1 415 555 0134", "first_name": " Dana  "})
    assert (person.phone, person.email, person.first_name) == ("+14155550134", "", "Dana")


def test_it_uses_the_sources_default_region_for_national_numbers():
    assert person_from_payload({"phone": "020 7946 0958"}, default_region="GB").phone == "+442079460958"


def test_it_prefers_the_leads_country_over_the_sources_region():
    person = person_from_payload({"phone": "030 1234567", "country": "Germany"}, default_region="US")
    assert (person.phone, person.country) == ("+49301234567", "DE")


def test_it_records_the_company_domain_but_not_a_free_mail_domain():
    work = person_from_payload({"email": "dana@Northwind.example"})
    free = person_from_payload({"email": "dana.w@GMAIL.com"})
    assert (work.company_domain, work.free_mail) == ("northwind.example", False)
    assert (free.company_domain, free.free_mail) == ("", True)


def test_it_turns_unusable_fields_into_warnings_when_the_person_is_reachable():
    person = person_from_payload(
        {"email": "dana@northwind.example", "phone": "12", "country": "Atlantis", "company_size": "lots",
         "first_name": 42, "favourite_colour": "green"}
    )
    warned = {problem.field: problem.message for problem in person.warnings}
    assert set(warned) == {"phone", "country", "company_size", "first_name", "favourite_colour"}
    assert "'Atlantis' is not a country" in warned["country"]
    assert "kept with its other contact" in warned["phone"]
    assert "fields" in warned["favourite_colour"]
    assert person.first_name == ""


def test_it_refuses_a_person_nobody_could_reach():
    with pytest.raises(Unreachable) as refused:
        person_from_payload({"email": "dana at northwind", "phone": "12"})
    fields = [problem.field for problem in refused.value.problems]
    assert fields == ["email", "phone"]


def test_it_refuses_a_body_without_any_contact_field():
    with pytest.raises(Unreachable) as refused:
        person_from_payload({"first_name": "Dana"})
    assert refused.value.problems[0].field == "email"
    assert "email or phone" in refused.value.problems[0].message


def test_it_refuses_a_body_that_is_not_an_object():
    with pytest.raises(Unreachable) as refused:
        person_from_payload([{"email": "dana@northwind.example"}])
    assert refused.value.problems[0].message.endswith("; not an array")


@pytest.mark.parametrize(("payload", "kind"), [(None, "null"), ("dana@northwind.example", "a string"), (7, "a number"), (False, "false")])
def test_it_names_the_json_it_got_instead_of_an_object(payload, kind):
    with pytest.raises(Unreachable) as refused:
        person_from_payload(payload)
    assert refused.value.problems[0].message == (
        "must be a JSON object with the lead's fields, such as "
        f'{{"email": "dana@northwind.example", "first_name": "Dana"}}; not {kind}'
    )


@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_not_a_company_size(flag):
    person = person_from_payload({"email": "dana@northwind.example", "company_size": flag})
    assert person.company_size is None
    assert [(w.field, w.message.split(";")[0]) for w in person.warnings] == [
        ("company_size", f"{str(flag).lower()} is not a number of employees")
    ]

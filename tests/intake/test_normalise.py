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


DANA = "dana@northwind.example"
TEXT_LIMITS = [
    ("first_name", 100), ("last_name", 100), ("company", 200), ("title", 200), ("region", 100), ("city", 100),
    ("message", 20_000), ("product_interest", 200), ("campaign", 200),
    ("utm_source", 200), ("utm_medium", 200), ("utm_campaign", 200),
]


def warned(person) -> list[tuple[str, str]]:
    return [(problem.field, problem.message) for problem in person.warnings]


def too_long(limit: int) -> str:
    return f"String should have at most {limit} characters; the value was not used (kept in the submission)"


@pytest.mark.parametrize(("name", "limit"), TEXT_LIMITS)
def test_it_keeps_a_text_field_up_to_its_limit_and_leaves_out_a_longer_one(name, limit):
    kept = person_from_payload({"email": DANA, name: "a" * limit})
    assert (getattr(kept, name), warned(kept)) == ("a" * limit, [])
    longer = person_from_payload({"email": DANA, name: "a" * (limit + 1)})
    assert (getattr(longer, name), warned(longer)) == ("", [(name, too_long(limit))])


def test_it_leaves_out_a_country_name_longer_than_any_country_has():
    person = person_from_payload({"email": DANA, "country": "G" * 101})
    assert (person.country, warned(person)) == ("", [("country", too_long(100))])


def test_it_takes_an_email_of_254_characters_and_leaves_out_a_longer_one():
    longest = "d" * 64 + "@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 53 + ".example"
    assert len(longest) == 254
    assert person_from_payload({"email": longest}).email == longest
    longer = person_from_payload({"email": "d" + longest, "phone": "+1 415 555 0134"})
    assert (longer.email, warned(longer)) == ("", [("email", "String should have at most 254 characters; it was not used (kept in the submission)")])


def test_it_takes_a_phone_written_in_40_characters_and_leaves_out_a_longer_one():
    spaced = "+1" + " " * 26 + "415 555 0134"
    assert len(spaced) == 40
    assert person_from_payload({"phone": spaced}).phone == "+14155550134"
    longer = person_from_payload({"email": DANA, "phone": spaced.replace("+1 ", "+1  ")})
    assert (longer.phone, warned(longer)) == ("", [("phone", "String should have at most 40 characters; it was not used (kept in the submission)")])


@pytest.mark.parametrize("size", [10_000_000, "10,000,000", "10000000+"])
def test_it_takes_the_largest_company_size(size):
    person = person_from_payload({"email": DANA, "company_size": size})
    assert (person.company_size, warned(person)) == (10_000_000, [])


@pytest.mark.parametrize(("size", "shown"), [(10_000_001, "10000001"), ("10,000,001", "'10,000,001'")])
def test_it_leaves_out_a_company_size_one_above_the_largest(size, shown):
    person = person_from_payload({"email": DANA, "company_size": size})
    assert (person.company_size, warned(person)) == (None, [
        ("company_size", f"{shown} is more employees than any company has; use a number up to 10,000,000")])


@pytest.mark.parametrize("size", [0, "0"])
def test_it_takes_a_company_size_of_zero(size):
    person = person_from_payload({"email": DANA, "company_size": size})
    assert (person.company_size, warned(person)) == (0, [])


@pytest.mark.parametrize(("size", "shown"), [(-1, "-1"), ("lots", "'lots'"), ("", "''")])
def test_it_leaves_out_a_company_size_that_is_not_a_number_of_employees(size, shown):
    person = person_from_payload({"email": DANA, "company_size": size})
    assert (person.company_size, warned(person)) == (None, [
        ("company_size", f"{shown} is not a number of employees; use a number such as 250 or a range such as 51-200")])


def test_it_leaves_out_a_company_size_of_the_wrong_type_with_the_first_reason():
    person = person_from_payload({"email": DANA, "company_size": [250]})
    assert warned(person) == [("company_size", "Input should be a valid integer; the value was not used (kept in the submission)")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0, 0), ("0", 0), (" 250 ", 250), ("1.000", 1000), ("12 345", 12345), ("51 - 200", 51), ("51\u2013200", 51),
     ("1,000-5,000", 1000), ("+", None), ("", None), ("-5", None), ("200-", None), ("x250", None)],
)
def test_it_reads_company_sizes_at_their_edges(raw, expected):
    assert company_size_parse(raw) == expected


def test_it_keeps_custom_fields_holding_objects_and_lists_as_sent():
    custom = {"address": {"street": "Unter den Linden 1", "zip": "10117"}, "tags": ["demo", "q4"], "seats": 40,
              "trial": True, "referrer": None}
    person = person_from_payload({"email": DANA, "fields": custom})
    assert (person.fields, warned(person)) == (custom, [])
    assert person.facts("website")["fields"] == custom


def test_it_leaves_out_a_custom_field_with_an_unstorable_character_at_any_depth():
    person = person_from_payload({"email": DANA, "fields": {
        "address": {"street": "Linden\u00001"}, "tags": ["ok", "\ud800"], "bad\u0000key": 1,
        "nested": {"deeper": ["fine", {"x": "\udfff"}]}, "seats": 4, "city": "K\u00f6ln \ud7ff\ue000"}})
    assert person.fields == {"seats": 4, "city": "K\u00f6ln \ud7ff\ue000"}
    unstorable = "contains a character that cannot be stored (NUL or an unpaired surrogate); the value was not used (kept in the submission)"
    assert warned(person) == [(field, unstorable) for field in ("fields.address", "fields.bad\\x00key", "fields.nested", "fields.tags")]


def test_it_names_a_field_it_cannot_store_readably_and_briefly():
    person = person_from_payload({"email": DANA, "\u0000" + "k" * 200: 1, "n" * 200: "\u0000", "back\\slash": "\ud800"})
    unstorable = "contains a character that cannot be stored (NUL or an unpaired surrogate); the value was not used (kept in the submission)"
    assert warned(person) == [(field, unstorable) for field in ("\\x00" + "k" * 116, "n" * 120, "back\\slash")]


def test_it_leaves_out_a_custom_object_whose_own_keys_cannot_be_stored():
    person = person_from_payload({"email": DANA, "fields": {"address": {"street\u0000": "Linden 1"}, "seats": 4}})
    assert (person.fields, [field for field, _ in warned(person)]) == ({"seats": 4}, ["fields.address"])


@pytest.mark.parametrize("consent", [True, False])
def test_it_keeps_the_marketing_consent_as_given(consent):
    person = person_from_payload({"email": DANA, "consent_marketing": consent})
    assert person.consent_marketing is consent
    assert person.facts("website")["consent_marketing"] is consent


def test_a_person_who_said_nothing_about_consent_has_not_given_it():
    assert person_from_payload({"email": DANA}).consent_marketing is None


def test_it_folds_whitespace_inside_one_line_fields_but_keeps_the_lines_of_a_message():
    person = person_from_payload({"email": DANA, "company": " Northwind \t Analytics ", "message": "  Hello,\n\n  a demo, please.  "})
    assert (person.company, person.message) == ("Northwind Analytics", "Hello,\n\n  a demo, please.")


def test_it_lists_unknown_fields_in_order_and_says_where_custom_fields_go():
    person = person_from_payload({"email": DANA, "zebra": 1, "budget": "50k"})
    hint = 'is not a known field and was not used; send custom fields inside "fields"'
    assert warned(person) == [("budget", hint), ("zebra", hint)]


def test_it_says_why_each_unusable_detail_was_left_out():
    person = person_from_payload({"email": DANA, "phone": "12", "country": "Atlantis", "first_name": 42, "fields": "x"})
    assert warned(person) == [
        ("first_name", "Input should be a valid string; the value was not used (kept in the submission)"),
        ("fields", "Input should be a valid dictionary; the value was not used (kept in the submission)"),
        ("country", "'Atlantis' is not a country we know; use an ISO code such as US or DE, or the English name"),
        ("phone", "'12' is not a valid phone number; write it with its country code, such as +44 20 7946 0958; "
                  "the lead was kept with its other contact"),
    ]


def test_it_names_the_region_a_national_phone_number_was_read_in():
    with pytest.raises(Unreachable) as refused:
        person_from_payload({"phone": "12", "country": "DE"}, default_region="US")
    assert str(refused.value) == (
        "phone: '12' is not a valid phone number in DE; write it with its country code, such as +44 20 7946 0958"
    )


def test_it_keeps_the_phone_when_the_email_is_invalid_and_says_so():
    person = person_from_payload({"email": "dana at northwind", "phone": "+1 415 555 0134"})
    assert (person.email, person.email_key, person.phone) == ("", "", "+14155550134")
    assert warned(person) == [("email", "'dana at northwind' is not a valid email address: An email address must have an "
                                        "@-sign.; the lead was kept with its other contact")]


def test_it_gives_every_reason_nobody_could_be_reached():
    with pytest.raises(Unreachable) as refused:
        person_from_payload({"email": "dana at northwind", "phone": "12"})
    assert str(refused.value) == (
        "email: 'dana at northwind' is not a valid email address: An email address must have an @-sign.; "
        "phone: '12' is not a valid phone number; write it with its country code, such as +44 20 7946 0958"
    )


def test_a_body_without_contact_fields_is_told_what_would_do():
    with pytest.raises(Unreachable) as refused:
        person_from_payload({"first_name": "Dana"})
    assert str(refused.value) == "email: a lead needs a way to reach the person: send a valid email or phone"


def test_a_phone_of_the_wrong_type_is_the_reason_nobody_could_be_reached():
    with pytest.raises(Unreachable) as refused:
        person_from_payload({"phone": 4155550134})
    assert str(refused.value) == "phone: Input should be a valid string; it was not used (kept in the submission)"


def test_an_email_of_the_wrong_type_is_the_reason_nobody_could_be_reached():
    with pytest.raises(Unreachable) as refused:
        person_from_payload({"email": 5, "first_name": "Dana"})
    assert [problem.as_dict() for problem in refused.value.problems] == [
        {"field": "email", "message": "Input should be a valid string; it was not used (kept in the submission)"}]


def test_it_gives_rules_every_fact_they_can_test():
    person = person_from_payload({
        "email": "Dana@Northwind.example", "phone": "+49 30 1234567", "first_name": "Dana", "last_name": "Whitfield",
        "company": "Northwind", "title": "CTO", "company_size": "51-200", "country": "Germany", "region": "Berlin",
        "city": "Berlin", "message": "Hi", "product_interest": "Forecasting", "campaign": "q4", "utm_source": "google",
        "utm_medium": "cpc", "utm_campaign": "q4-forecasting", "consent_marketing": False, "fields": {"seats": 4},
    })
    assert person.facts("website") == {
        "first_name": "Dana", "last_name": "Whitfield", "company": "Northwind", "title": "CTO", "region": "Berlin",
        "city": "Berlin", "message": "Hi", "product_interest": "Forecasting", "campaign": "q4", "utm_source": "google",
        "utm_medium": "cpc", "utm_campaign": "q4-forecasting", "email": "Dana@northwind.example", "phone": "+49301234567",
        "company_size": 51, "country": "DE", "source": "website", "company_domain": "northwind.example",
        "free_mail": False, "consent_marketing": False, "fields": {"seats": 4},
    }
    assert person.contact() == {
        "email": "Dana@northwind.example", "phone": "+49301234567", "first_name": "Dana", "last_name": "Whitfield",
        "company": "Northwind", "title": "CTO", "company_size": 51, "country": "DE", "region": "Berlin", "city": "Berlin",
    }


def test_an_inquirys_contact_leaves_out_what_was_not_given_but_keeps_a_company_size_of_zero():
    assert person_from_payload({"phone": "+1 415 555 0134", "company_size": 0}).contact() == {
        "phone": "+14155550134", "company_size": 0}


def test_it_reads_a_region_code_in_any_case_and_a_country_of_blanks_as_none():
    assert phone_normalise("020 7946 0958", region="gb") == "+442079460958"
    assert country_code("   ") is None


"""Understanding the person: a submitted payload becomes clean, comparable facts.

Pure functions, no queries. A lead needs one reachable contact (a valid email
or a valid phone); any other field that cannot be used becomes a warning, and
the value stays in the verbatim submission.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from leadbaton.core.jsonkind import json_kind
from leadbaton.intake.freemail import FREE_MAIL_DOMAINS

MAX_COMPANY_SIZE = 10_000_000
TEXT_FIELDS = (
    "first_name", "last_name", "company", "title", "region", "city", "message", "product_interest",
    "campaign", "utm_source", "utm_medium", "utm_campaign",
)
COUNTRY_ALIASES = {
    "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB", "great britain": "GB",
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "america": "US", "united states of america": "US",
    "uae": "AE", "russia": "RU", "south korea": "KR", "korea": "KR", "czech republic": "CZ",
    "holland": "NL", "the netherlands": "NL", "vietnam": "VN", "iran": "IR", "taiwan": "TW", "bolivia": "BO",
    "venezuela": "VE", "tanzania": "TZ", "syria": "SY", "laos": "LA", "moldova": "MD", "turkey": "TR",
}


class LeadIn(BaseModel):
    """The intake API's body. Every field is optional; email or phone must be usable."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    email: str | None = Field(None, max_length=254, examples=["dana.whitfield@northwind.example"])
    phone: str | None = Field(None, max_length=40, examples=["+1 415 555 0134"])
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    company_size: int | str | None = Field(None, description="A number of employees or a range such as 51-200")
    country: str | None = Field(None, max_length=100, description="ISO 3166-1 code (US, USA) or English name")
    region: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=100)
    message: str | None = Field(None, max_length=20_000)
    product_interest: str | None = Field(None, max_length=200)
    campaign: str | None = Field(None, max_length=200)
    utm_source: str | None = Field(None, max_length=200)
    utm_medium: str | None = Field(None, max_length=200)
    utm_campaign: str | None = Field(None, max_length=200)
    consent_marketing: bool | None = None
    fields: dict[str, Any] | None = Field(None, description="Custom fields, kept as sent")

    @field_validator("company_size", mode="before")
    @classmethod
    def _size_is_not_a_boolean(cls, value: Any) -> Any:
        # JSON true would otherwise become 1 employee.
        if isinstance(value, bool):
            raise PydanticCustomError(
                "size_not_boolean", f"{json_kind(value)} is not a number of employees; send a number such as 250 or a range such as 51-200"
            )
        return value


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class Person:
    """A submission's facts after normalising."""

    email: str = ""
    email_key: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    company_domain: str = ""
    free_mail: bool = False
    title: str = ""
    company_size: int | None = None
    country: str = ""
    region: str = ""
    city: str = ""
    message: str = ""
    product_interest: str = ""
    campaign: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    consent_marketing: bool | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)

    def facts(self, source_slug: str) -> dict[str, Any]:
        """What the lead definition and routing rules can test."""
        facts = {name: getattr(self, name) for name in (*TEXT_FIELDS, "email", "phone", "company_size", "country")}
        facts.update(
            source=source_slug,
            company_domain=self.company_domain,
            free_mail=self.free_mail,
            consent_marketing=self.consent_marketing,
            fields=self.fields,
        )
        return facts

    def contact(self) -> dict[str, Any]:
        """The person's details as given in this inquiry, for the inquiry's record."""
        names = ("email", "phone", "first_name", "last_name", "company", "title", "company_size", "country", "region", "city")
        return {name: getattr(self, name) for name in names if getattr(self, name) not in ("", None)}


class Unreachable(Exception):
    """The submission has no usable email and no usable phone."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def person_from_payload(payload: Any, *, default_region: str = "") -> Person:
    """Normalise a decoded JSON body. Raise Unreachable when nobody could be contacted."""
    if not isinstance(payload, dict):
        example = '{"email": "dana@northwind.example", "first_name": "Dana"}'
        raise Unreachable([Problem("body", f"must be a JSON object with the lead's fields, such as {example}; not {json_kind(payload)}")])
    warnings: list[Problem] = []
    data = _validated(_storable(payload, warnings), warnings)
    person = Person(warnings=warnings)
    for name in TEXT_FIELDS:
        value = getattr(data, name) or ""
        # One-line fields get their inner whitespace folded; the message keeps its lines.
        setattr(person, name, value.strip() if name == "message" else " ".join(value.split()))
    person.consent_marketing = data.consent_marketing
    person.fields = data.fields or {}
    for name in sorted(data.model_extra or {}):
        warnings.append(Problem(name, 'is not a known field and was not used; send custom fields inside "fields"'))

    if data.country:
        person.country = country_code(data.country) or ""
        if not person.country:
            warnings.append(Problem("country", f"{data.country!r} is not a country we know; use an ISO code such as US or DE, or the English name"))
    if data.company_size is not None:
        person.company_size = company_size_parse(data.company_size)
        if person.company_size is not None and person.company_size > MAX_COMPANY_SIZE:
            person.company_size = None
            warnings.append(Problem("company_size", f"{data.company_size!r} is more employees than any company has; use a number up to {MAX_COMPANY_SIZE:,}"))
        elif person.company_size is None:
            warnings.append(Problem("company_size", f"{data.company_size!r} is not a number of employees; use a number such as 250 or a range such as 51-200"))

    errors: list[Problem] = []
    if data.email:
        try:
            person.email, person.email_key, domain = email_normalise(data.email)
        except EmailNotValidError as error:
            errors.append(Problem("email", f"{data.email!r} is not a valid email address: {error}"))
        else:
            person.free_mail = domain in FREE_MAIL_DOMAINS
            person.company_domain = "" if person.free_mail else domain
    if data.phone:
        region = person.country or default_region
        person.phone = phone_normalise(data.phone, region=region) or ""
        if not person.phone:
            hint = f" in {region}" if region else ""
            errors.append(Problem("phone", f"{data.phone!r} is not a valid phone number{hint}; write it with its country code, such as +44 20 7946 0958"))

    if not person.email and not person.phone:
        errors += [problem for problem in warnings if problem.field in ("email", "phone")]
        if not errors:
            errors.append(Problem("email", "a lead needs a way to reach the person: send a valid email or phone"))
        raise Unreachable(errors)
    for problem in errors:  # the other contact works, so these are only warnings
        warnings.append(Problem(problem.field, f"{problem.message}; the lead was kept with its other contact"))
    return person


def _storable(payload: dict[str, Any], warnings: list[Problem]) -> dict[str, Any]:
    """Leave out values no database can store as text: NUL characters and unpaired surrogates.

    JSON allows them (as \\u0000 and \\ud800); PostgreSQL refuses them. A top-level
    field or a custom field holding one is left out with a warning; it stays in the
    stored submission.
    """
    kept: dict[str, Any] = {}
    for name, value in payload.items():
        if name == "fields" and isinstance(value, dict):
            custom = {key: item for key, item in value.items() if _text_ok(key) and _text_ok(item)}
            for key in sorted(value.keys() - custom.keys()):
                warnings.append(Problem(f"fields.{_printable(key)}", f"{_UNSTORABLE}; the value was not used (kept in the submission)"))
            kept[name] = custom
        elif _text_ok(name) and _text_ok(value):
            kept[name] = value
        else:
            warnings.append(Problem(_printable(name), f"{_UNSTORABLE}; the value was not used (kept in the submission)"))
    return kept


_UNSTORABLE = "contains a character that cannot be stored (NUL or an unpaired surrogate)"


def _printable(name: str) -> str:
    return (name if _text_ok(name) else repr(name)[1:-1])[:120]


def _text_ok(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return all(_text_ok(key) and _text_ok(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_text_ok(item) for item in value)
    return True


def _validated(payload: dict[str, Any], warnings: list[Problem]) -> LeadIn:
    """Validate the body; a field of the wrong type or size becomes a warning and is left out."""
    try:
        return LeadIn.model_validate(payload)
    except ValidationError as error:
        bad: dict[str, str] = {}
        for item in error.errors():
            name = str(item["loc"][0])  # the body is an object: every error is about one of its fields
            bad.setdefault(name, item["msg"])
        for name, message in bad.items():
            what = "the value was not used" if name not in ("email", "phone") else "it was not used"
            warnings.append(Problem(name, f"{message}; {what} (kept in the submission)"))
        return LeadIn.model_validate({k: v for k, v in payload.items() if k not in bad})


def email_normalise(raw: str) -> tuple[str, str, str]:
    """(address, matching key, domain): the domain lower-cased; the key lower-cases the whole address."""
    result = validate_email(raw.strip(), check_deliverability=False)
    domain = result.ascii_domain.lower()
    address = f"{result.local_part}@{domain}"
    return address, address.casefold(), domain


def phone_normalise(raw: str, *, region: str = "") -> str | None:
    """E.164 form, or None when the number is not a valid one."""
    try:
        number = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_code(raw: str) -> str | None:
    """ISO 3166-1 alpha-2 code from a code (US, USA) or an English name (Germany)."""
    text = raw.strip()
    if not text:
        return None
    alias = COUNTRY_ALIASES.get(text.casefold())
    if alias:
        return alias
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def company_size_parse(raw: int | str) -> int | None:
    """Employees from 250, "250", "1,000", "51-200" (lower bound) or "5000+"."""
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    match = re.fullmatch(r"\s*(\d[\d,. ]*)\s*(?:[-\u2013]\s*\d[\d,. ]*|\+)?\s*", raw)
    if not match:
        return None
    return int(re.sub(r"[,. ]", "", match.group(1)))  # the group starts with a digit

"""What a use case refuses, said in the product's words; delivery decides how to say it.

A use case raises one of these with field-level problems (`{"field", "message"}`,
every one a reader can act on). `api/` turns the kind into an HTTP status (one
table, api/errors.py), `web/` into a page, the CLI into an exit message; a CSV
import or an inbound e-mail reports the same problems without any status.
"""

from __future__ import annotations

from typing import Self


class Refused(Exception):
    """The request cannot be carried out; `errors` says why, field by field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{error['field']}: {error['message']}" for error in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> Self:
        return cls([{"field": field, "message": message}])


class NotFound(Refused):
    """No such thing for this caller: one that does not exist and one they may not read are refused alike."""


class NotAllowed(Refused):
    """The caller may see it but may not do this; the message says who can."""


class Conflict(Refused):
    """The request is well formed, but the thing is not in a state to take it now (a closed lead, a claim held elsewhere)."""


class Invalid(Refused):
    """What was sent cannot be used: every problem at once, each naming its field and what would be accepted."""

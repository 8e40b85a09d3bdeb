"""Secrets shown once and stored hashed: source API keys and personal tokens.

A secret looks like `lb_<kind>_<prefix>_<random>`. The prefix is stored in
clear to find the row with one indexed lookup; the whole secret is stored as a
SHA-256 digest. High-entropy random secrets need no slow hash: nobody can
guess 256 bits, and a fast digest keeps intake under a millisecond.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class NewSecret:
    plaintext: str
    prefix: str
    digest: str


def secret_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def secret_new(kind: str) -> NewSecret:
    prefix = secrets.token_hex(4)
    plaintext = f"lb_{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewSecret(plaintext=plaintext, prefix=prefix, digest=secret_digest(plaintext))


def secret_prefix(plaintext: str, kind: str) -> str | None:
    """The lookup prefix of a presented secret, or None when it has not our shape."""
    parts = plaintext.split("_", 3)
    if len(parts) != 4 or parts[0] != "lb" or parts[1] != kind or len(parts[2]) != 8:
        return None
    return parts[2]


def secret_matches(plaintext: str, digest: str) -> bool:
    return hmac.compare_digest(secret_digest(plaintext), digest)

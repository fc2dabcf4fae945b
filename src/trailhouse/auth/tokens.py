"""API tokens: random secrets shown once, stored only as SHA-256 hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

PREFIX = "th_"
# Anything shaped like a token is scrubbed from audit statements (see audit.scrub).
TOKEN_PATTERN = re.compile(r"th_[A-Za-z0-9_\-]{20,}")


def new_token() -> str:
    """A fresh API token (43 random URL-safe characters after the `th_` prefix)."""
    return PREFIX + secrets.token_urlsafe(32)


def token_id(token_hash: str) -> str:
    """A short public identifier of a token: safe to show, log and use in `token revoke`."""
    return token_hash[:12]


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 (tokens are 256-bit random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, token_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), token_hash)


def looks_like_token(text: str) -> bool:
    return TOKEN_PATTERN.fullmatch(text) is not None

"""Data that crosses the masking modules' boundaries."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MARKER = b"[MASKED]"
# GitLab refuses to mask variables shorter than 8 characters; radar uses the same floor.
DEFAULT_MIN_LENGTH = 8

# Token prefixes whose body GitLab Runner masks even when nobody registered the token.
DEFAULT_TOKEN_PREFIXES: tuple[bytes, ...] = (
    b"glpat-", b"gloas-", b"gldt-", b"glrt-", b"glrtr-", b"glcbt-", b"glptt-", b"glft-",
    b"glimt-", b"glagent-", b"glsoat-", b"glffct-", b"gltok-", b"_gitlab_session=",
)

# URL query parameters whose values are credentials (matched case-insensitively after ? or &).
DEFAULT_QUERY_KEYS: tuple[bytes, ...] = (
    b"private_token", b"authenticity_token", b"rss_token", b"feed_token", b"job_token",
    b"access_token", b"refresh_token", b"id_token", b"client_secret", b"api_key", b"apikey",
    b"password", b"passwd", b"token", b"sig",
    b"x-amz-signature", b"x-amz-credential", b"x-amz-security-token",
    b"x-goog-signature", b"x-goog-credential",
)


@dataclass(frozen=True)
class Secret:
    """One secret value and where it came from.

    `source` names the origin for messages ("file /run/key.pem", "variable DB_PASSWORD");
    it must never contain the value.
    """

    value: bytes
    source: str


@dataclass(frozen=True)
class Refusal:
    """A secret that was not registered, and why (never the value)."""

    source: str
    reason: str


@dataclass(frozen=True)
class MaskOptions:
    """How a set of secrets is masked."""

    min_length: int = DEFAULT_MIN_LENGTH
    marker: bytes = DEFAULT_MARKER
    token_prefixes: tuple[bytes, ...] = DEFAULT_TOKEN_PREFIXES
    query_keys: tuple[bytes, ...] = DEFAULT_QUERY_KEYS
    mask_url_passwords: bool = True
    # "hyperscan", "ahocorasick", or None to pick the fastest engine that imports.
    engine: str | None = None

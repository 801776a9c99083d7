"""Secrets nobody registered: what follows a token prefix, a sensitive query key, or `scheme://user:`.

Each function looks at one block from a position the matcher reported and says which bytes to
mask, or that it must see more of the stream first. They never look before the position they
are given, so the stream masker can release everything in front of it.
"""

from __future__ import annotations

import re

# GitLab token bodies: letters, digits, `-`, `_`, `.`, `=`; any other byte ends the token.
TOKEN_BODY = re.compile(rb"[A-Za-z0-9._=-]*")
# A query value ends at the next parameter, the fragment, quotes, whitespace, controls or `<` `>`.
QUERY_VALUE = re.compile(rb"[^&#\"'<>\x00-\x20\x7f]*")
# The authority of a URL ends at the path, query or fragment, or where the URL itself ends.
_AUTHORITY_STOPS = rb"/?#\\<>\"'`\x00-\x20\x7f"
_AUTHORITY_END = re.compile(rb"[%s]" % _AUTHORITY_STOPS)
# The matcher's needle for URLs that have user-info: `://`, authority bytes, then an `@`. Plain
# URLs (most of a package-install log) never reach Python.
USERINFO_NEEDLE = rb"://[^@%s]*@" % _AUTHORITY_STOPS
# How far past `://` radar waits for the `@` that ends a password: longer user-info is not a
# URL anybody types, and waiting longer would hold back ordinary output.
USERINFO_LIMIT = 512

WAIT = "wait"


def run_end(pattern: re.Pattern[bytes], data: bytes, start: int) -> int:
    """End of the run of `pattern`'s characters that starts at `start`."""
    match = pattern.match(data, start)
    return match.end() if match else start


def authority_start(data: bytes, needle_end: int) -> int:
    """Where the authority starts for a USERINFO_NEEDLE match ending at `needle_end`.

    The needle's class excludes `/`, so the last `://` before its end is the one it matched.
    """
    return data.rfind(b"://", 0, needle_end) + 3


def open_authority(data: bytes) -> int:
    """Start of a trailing `://` (or `:`, `:/`) whose user-info could still end in a password."""
    n = len(data)
    # Only a `://` with fewer than USERINFO_LIMIT bytes after it can still be waiting.
    scheme_end = data.rfind(b"://", max(0, n - USERINFO_LIMIT - 2))
    if scheme_end >= 0 and _AUTHORITY_END.search(data, scheme_end + 3) is None:
        return scheme_end
    for tail in (b":/", b":"):
        if data.endswith(tail):
            return n - len(tail)
    return n


def url_password(data: bytes, authority_start: int, final: bool) -> tuple[int, int] | str | None:
    """The password span in `scheme://user:PASSWORD@host` whose authority starts at `authority_start`.

    Returns (start, end), None when there is no password, or WAIT when the authority may still
    be incomplete. The password runs from the first `:` of the user-info to its last `@`, so an
    unescaped `@` inside a password is masked too.
    """
    limit = min(len(data), authority_start + USERINFO_LIMIT)
    end = _AUTHORITY_END.search(data, authority_start, limit)
    if end is None:
        if len(data) - authority_start < USERINFO_LIMIT and not final:
            return WAIT
        stop = limit
    else:
        stop = end.start()
    at = data.rfind(b"@", authority_start, stop)
    if at < 0:
        return None
    colon = data.find(b":", authority_start, at)
    if colon < 0 or colon + 1 == at:
        return None
    return colon + 1, at

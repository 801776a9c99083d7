"""Compiled regular expressions kept between runs.

Compiling an expression with the `regex` package is Python work (parsing, optimising, emitting
the code its matching engine runs): about a millisecond an expression, ~45 ms of a small
repository's whole scan and ~0.5 s of each worker's in a history full of credentials, where most
rules are met. The emitted code is plain data (`Pattern._pickled_data`: the expression, flags,
code bytes, group tables and required string), which `regex`'s C part turns back into a pattern
in a few microseconds. radar keeps that data as JSON, one file per expression, in
$XDG_CACHE_HOME/radar/expressions-<key>/ (the key names the `regex` release and Python version);
never as a pickle, which could run code when read.

Trust is that of the keyword database beside it: the cache directory is trusted as radar's own
files are, since a file someone else could write there could change what an expression matches.
Each file starts with the SHA-256 of the rest, so that a damaged one (a torn write, a flipped bit:
`regex`'s engine does not check its code, and damaged code can loop forever) is compiled afresh,
and so is anything of another shape than this module writes (another `regex` release's data).
The files are private (0600): a custom rule's expression is the user's own text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import regex

from radar.scan.cache_files import cache_path, store_cached

try:  # the C half of `regex`: what `pickle` calls to load a pattern (`regex._main._pickle`)
    from regex import _regex
except ImportError:  # an unexpected layout of the package: compile every time
    _regex = None

_FORMAT = 1
MAX_FILE_BYTES = 1 << 20  # the largest shipped expression's file is ~9 KB; no larger one is read whole
_FOLDER = "expressions-" + hashlib.sha256(
    f"{_FORMAT}:{regex.__version__}:{sys.version_info[:2]}".encode()).hexdigest()[:16]


def pattern(expression: str, flags: int = 0) -> regex.Pattern[str]:
    """`regex.compile(expression, flags)`, from the cache when it holds this expression."""
    path = _path(expression, flags)
    try:
        with open(path, "rb") as file:
            stored = file.read(MAX_FILE_BYTES + 1)
        return _load(stored, expression, flags)
    except Exception:  # none yet, damaged, of another shape, or refused by regex: compiled afresh
        pass
    compiled = regex.compile(expression, flags)
    text = _dumps(compiled, flags)
    if text is not None:
        payload = text.encode()
        store_cached(path, hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload, 0o600)
    return compiled


def _path(expression: str, flags: int) -> Path:
    name = hashlib.sha256(f"{flags}:{expression}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return cache_path(_FOLDER) / f"{name}.json"


def _dumps(compiled: regex.Pattern[str], requested: int) -> str | None:
    """The JSON of a pattern compiled with the flags `requested`, or None for one this module
    cannot keep (named lists, bytes patterns, data of a shape this module does not know)."""
    data = getattr(compiled, "_pickled_data", None)
    if _regex is None or not isinstance(data, tuple) or len(data) != 11:
        return None
    (expression, flags, code, group_index, index_group, named_lists, named_list_indexes,
     req_offset, req_chars, req_flags, group_count) = data
    if not (isinstance(expression, str) and isinstance(code, bytes) and named_lists == {}
            and named_list_indexes == [] and isinstance(req_chars, tuple)):
        return None
    return json.dumps({"expression": expression, "flags": flags, "code": base64.b64encode(code).decode(),
                       "group_index": group_index, "index_group": sorted(index_group.items()),
                       "req_offset": req_offset, "req_chars": list(req_chars), "req_flags": req_flags,
                       "group_count": group_count, "requested": requested})


def _load(stored: bytes, expression: str, flags: int) -> regex.Pattern[str]:
    """The pattern a cache file holds; ValueError (or TypeError, KeyError) when it is damaged, of
    another shape, or for another expression."""
    if _regex is None:
        raise ValueError("no C module to load into")
    if len(stored) > MAX_FILE_BYTES:
        raise ValueError("too large")
    digest, _, payload = stored.partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        raise ValueError("damaged")
    data = json.loads(payload)
    if data["expression"] != expression or data["requested"] != flags:
        raise ValueError("another expression")
    ints = [data[k] for k in ("flags", "req_offset", "req_flags", "group_count")]
    group_index = data["group_index"]
    index_group = {_int(i): n for i, n in data["index_group"]}
    req_chars = tuple(_int(c) for c in data["req_chars"])
    if not (all(type(i) is int for i in ints) and isinstance(group_index, dict)
            and all(isinstance(n, str) and type(i) is int for n, i in group_index.items())
            and all(isinstance(n, str) for n in index_group.values())):
        raise ValueError("another shape")
    code = base64.b64decode(data["code"], validate=True)
    return _regex.compile(expression, ints[0], code, group_index, index_group, {}, [], ints[1], req_chars,
                          ints[2], ints[3])


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError("another shape")
    return value

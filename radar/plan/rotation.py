"""Rotation units: values that are halves of one credential are rotated together.

An AWS access key id is useless without its secret key and the other way round; rotating one
half issues a new pair. So when one half must be rotated first, the other must be too, and the
plan shows them as one unit (`Entry.rotate_with`).

"Related" is defined conservatively, so that two unrelated values are never tied together:

- the kinds pair up: an AWS access key id with an AWS secret key (by secret type), a
  `*client_id` with a `*client_secret`, a `*user`/`*username`/`*login` with a
  `*password`/`*passwd`/`*pwd` (by the field, which comes from the name the value is assigned to);
- and they sit together: in the same file of the same project (and commit) at most
  `NEAR_LINES` lines apart, each the other's nearest partner there; or as CI/CD variables of
  the same project and environment scope whose names differ only in that suffix
  (`PROD_CLIENT_ID` / `PROD_CLIENT_SECRET`, `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`).

A value paired with several others (one key id next to two secrets, equally near) is tied to
none: guessing would be worse than the plan saying nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from radar.plan.model import Entry, Place

NEAR_LINES = 5
MAX_PAIRS = 10_000
# kind -> (id half's field suffixes, secret half's field suffixes); longest first.
_NAME_KINDS = {
    "client": (("client_id",), ("client_secret",)),
    "login": (("username", "user", "login"), ("password", "passwd", "pwd")),
}
_AWS_ID, _AWS_SECRET = "AWS access key", "AWS secret key"
_AWS_SUFFIXES = (("aws_access_key_id", "access_key_id", "access_key"),
                 ("aws_secret_access_key", "secret_access_key", "secret_key"))


def _half(e: Entry) -> tuple[str, int, str] | None:
    """(kind, 0 for the id half or 1 for the secret half, the name's stem), or None."""
    if e.secret_type in (_AWS_ID, _AWS_SECRET):
        side = 0 if e.secret_type == _AWS_ID else 1
        return "aws", side, _stem(e.field, _AWS_SUFFIXES[side])
    for kind, suffixes in _NAME_KINDS.items():
        for side in (0, 1):
            if any(e.field.endswith(s) for s in suffixes[side]):
                return kind, side, _stem(e.field, suffixes[side])
    return None


def _stem(field: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if field.endswith(suffix):
            return field[: -len(suffix)].rstrip("_")
    return field


def _file_distance(a: Place, b: Place) -> int | None:
    if a.variable_key is not None or b.variable_key is not None:
        return None
    if (a.project, a.path, a.commit) != (b.project, b.path, b.commit):
        return None
    distance = abs(a.line - b.line)
    return distance if distance <= NEAR_LINES else None


def _same_variable_group(a: Place, b: Place) -> bool:
    return (a.variable_key is not None and b.variable_key is not None
            and (a.project, a.environment_scope) == (b.project, b.environment_scope))


def _distance(a: Entry, b: Entry, stems_match: bool) -> int | None:
    """How near two entries' places are (0 for paired variables), or None when not together."""
    best = None
    for p in a.places:
        for q in b.places:
            d = 0 if stems_match and _same_variable_group(p, q) else _file_distance(p, q)
            if d is not None and (best is None or d < best):
                best = d
    return best


def _nearest(e: Entry, candidates: list[tuple[Entry, bool]]) -> Entry | None:
    near = [(d, c) for c, stems in candidates if (d := _distance(e, c, stems)) is not None]
    if not near:
        return None
    best = min(d for d, _ in near)
    closest = [c for d, c in near if d == best]
    return closest[0] if len(closest) == 1 else None


def units(entries: list[Entry]) -> list[Entry]:
    """The entries with `rotate_with` set, and every half of a unit rotated if one half is."""
    halves: dict[str, list[tuple[Entry, int, str]]] = defaultdict(list)
    for e in entries:
        half = _half(e)
        if half is not None:
            halves[half[0]].append((e, half[1], half[2]))
    partner: dict[str, str] = {}  # short form -> short form, both ways
    by_form = {e.short_form: e for e in entries}
    for members in halves.values():
        ids = [(e, stem) for e, side, stem in members if side == 0]
        secrets = [(e, stem) for e, side, stem in members if side == 1]
        # Pairwise within one kind: a project has few of each; the bound keeps a hostile scan of
        # thousands of same-kind values from costing minutes (those are then simply not paired).
        if len(ids) * len(secrets) > MAX_PAIRS:
            continue
        for e, stem in ids:
            secret = _nearest(e, [(s, stem == s_stem) for s, s_stem in secrets])
            if secret is None:
                continue
            secret_stem = next(s_stem for s, s_stem in secrets if s is secret)
            if _nearest(secret, [(i, i_stem == secret_stem) for i, i_stem in ids]) is e:
                partner[e.short_form] = secret.short_form
                partner[secret.short_form] = e.short_form
    result = []
    for e in entries:
        other = partner.get(e.short_form)
        if other is None:
            result.append(e)
            continue
        reasons = e.rotate_reasons or tuple(
            f"it is one credential with {other}, which must be rotated first: {r}"
            for r in by_form[other].rotate_reasons)
        result.append(replace(e, rotate_with=(other,), rotate_reasons=reasons))
    return result


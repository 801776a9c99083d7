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
none: guessing would be worse than the plan saying nothing. Halves are bucketed by file and by
variable group, so the cost follows the places; a bucket of more than `MAX_BUCKET` halves of one
kind (a hostile or generated file) pairs nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import replace

from radar.plan.model import Entry

NEAR_LINES = 5
MAX_BUCKET = 200
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


class _Where:
    """An entry's places, indexed: file lines by (project, path, commit), variable groups by
    (project, scope). A pair is then judged by look-ups, not by comparing every place of one
    value with every place of the other (values in history have a place per commit)."""

    def __init__(self, e: Entry) -> None:
        self.lines: dict[tuple, list[int]] = defaultdict(list)
        self.groups: set[tuple] = set()
        for p in e.places:
            if p.variable_key is None:
                self.lines[(p.project, p.path, p.commit)].append(p.line)
            else:
                self.groups.add((p.project, p.environment_scope))
        for lines in self.lines.values():
            lines.sort()

    def distance(self, other: _Where, stems_match: bool) -> int | None:
        """0 for variables of one group with matching names, else the nearest lines of one file
        at most NEAR_LINES apart, else None: not together."""
        if stems_match and self.groups & other.groups:
            return 0
        best = None
        for key, lines in self.lines.items():
            for line in other.lines.get(key, ()):
                i = bisect_left(lines, line)
                for near in lines[max(i - 1, 0):i + 1]:
                    d = abs(near - line)
                    if d <= NEAR_LINES and (best is None or d < best):
                        best = d
        return best


def _nearest(n: int, candidates: list[int], where: list[_Where], stems: list[str]) -> int | None:
    """The one candidate nearest to half `n`, or None (none together, or a tie)."""
    near = [(d, c) for c in candidates
            if (d := where[n].distance(where[c], stems[n] == stems[c])) is not None]
    if not near:
        return None
    best = min(d for d, _ in near)
    closest = [c for d, c in near if d == best]
    return closest[0] if len(closest) == 1 else None


def units(entries: list[Entry]) -> list[Entry]:
    """The entries with `rotate_with` set, and every half of a unit rotated if one half is."""
    halves = [(i, *half) for i, e in enumerate(entries) if (half := _half(e)) is not None]
    where = {i: _Where(entries[i]) for i, *_ in halves}
    stems = {i: stem for i, _, _, stem in halves}
    # Only halves of one kind sharing a file, or a variable group and a name stem, can pair:
    # bucket them so the cost follows the places, not the square of the plan's size.
    buckets: dict[tuple, list[int]] = defaultdict(list)
    keys: dict[int, list[tuple]] = {}
    for i, kind, side, stem in halves:
        keys[i] = [(kind, key) for key in where[i].lines] + [(kind, "variables", stem, *group)
                                                             for group in where[i].groups]
        for key in keys[i]:
            buckets[key].append(i)
    sides = {i: side for i, _, side, _ in halves}

    def candidates(n: int) -> list[int]:
        found: set[int] = set()
        for key in keys[n]:
            bucket = buckets[key]
            if len(bucket) <= MAX_BUCKET:  # a file of hundreds of keys: no pair can be told apart
                found.update(c for c in bucket if sides[c] != sides[n])
        return sorted(found)

    partner: dict[int, int] = {}  # both ways
    for n in (i for i, _, side, _ in halves if side == 0):
        secret = _nearest(n, candidates(n), where, stems)
        if secret is not None and _nearest(secret, candidates(secret), where, stems) == n:
            partner[n], partner[secret] = secret, n
    result = []
    for n, e in enumerate(entries):
        other = partner.get(n)
        if other is None:
            result.append(e)
            continue
        mate = entries[other]
        reasons = e.rotate_reasons or tuple(
            f"its other half ({mate.short_form}) must be rotated first, because {r}"
            for r in mate.rotate_reasons)
        result.append(replace(e, rotate_with=(mate.short_form,), rotate_reasons=reasons))
    return result

"""Splitting a GitLab scan over parallel CI jobs: which of N shards reads which project.

`radar scan gitlab --shard I/N` reads the CI/CD variables and CI file of only the projects that
shard I owns; every shard still lists the group's projects (a page of 100 per request, cheap),
because the listing is how a shard learns the ids. Variables that belong to no project (the
group's, its subgroups', the instance's) are read by shard 1 alone, so they are neither lost nor
reported twice.

A project belongs to shard `1 + SHA-256(str(id)) mod N`:

- the numeric id, not the path: GitLab never changes a project's id, while renaming or moving a
  project changes its path, which would move it to another shard between two scheduled runs;
- a hash, not `id mod N`: ids are handed out across the whole instance, so the ids of one group's
  projects can fall into a pattern (a script that creates projects in steps) that `id mod N` would
  pile into one shard; SHA-256 spreads any set of ids evenly;
- each project's shard depends on its own id and N only, so adding or removing projects never
  moves the others (changing N does).

A project named on the command line that GitLab will not show (`--project PATH`, 403/404) has no
id to hash: it belongs to the shard of the SHA-256 of the name as given, so exactly one shard
reports it as unreadable.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from radar.errors import RadarError

if TYPE_CHECKING:
    from radar.scan.sources.gitlab import Scope, VariableRecord

# GitLab's own bound for `parallel: N` (2..200), which is how shards are meant to run.
MAX_SHARDS = 200
AUTO = "auto"
_FORM = re.compile(r"([0-9]{1,9})/([0-9]{1,9})")


class ShardError(RadarError):
    pass


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `total`."""

    index: int
    total: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.total <= MAX_SHARDS:
            raise ShardError(f"shard {self.index}/{self.total}: need 1 <= I <= N <= {MAX_SHARDS}")

    def owns(self, project: int | str) -> bool:
        """Whether this shard reads the project with this numeric id (or, lacking one, this name)."""
        return shard_of(project, self.total) == self.index

    @property
    def reads_shared(self) -> bool:
        """Group, subgroup and instance variables belong to no project: shard 1 reads them."""
        return self.index == 1

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def shard_of(project: int | str, total: int) -> int:
    """The shard (1..total) that owns a project id (or, for a project without a known id, its name)."""
    digest = hashlib.sha256(str(project).encode("utf-8", "surrogatepass")).digest()
    return 1 + int.from_bytes(digest, "big") % total


def parse_shard(text: str, environ: Mapping[str, str]) -> Shard:
    """`I/N`, or `auto`: GitLab's `CI_NODE_INDEX`/`CI_NODE_TOTAL` of a `parallel: N` job (1/1 in a
    job without `parallel:`, where neither is set)."""
    if text == AUTO:
        index, total = environ.get("CI_NODE_INDEX"), environ.get("CI_NODE_TOTAL")
        if index is None and total is None:
            return Shard(1, 1)
        if not index or not total:
            raise ShardError("--shard auto: CI_NODE_INDEX and CI_NODE_TOTAL must both be set (GitLab sets them "
                             "in a job with parallel: N), or neither")
        text, source = f"{index}/{total}", " (from CI_NODE_INDEX/CI_NODE_TOTAL)"
    else:
        source = ""
    match = _FORM.fullmatch(text)
    if not match:
        raise ShardError(f"--shard {text}{source}: not I/N; give the shard's number and the number of shards, "
                         "like --shard 2/4, or --shard auto in a GitLab job with parallel: N")
    index, total = int(match.group(1)), int(match.group(2))
    if not 1 <= total <= MAX_SHARDS:
        raise ShardError(f"--shard {text}{source}: N must be between 1 and {MAX_SHARDS} (GitLab's limit for parallel:)")
    if not 1 <= index <= total:
        raise ShardError(f"--shard {text}{source}: I must be between 1 and N ({total})")
    return Shard(index, total)


@dataclass(frozen=True)
class ShardReport:
    """What a shard's JSON report carries beyond its findings, for `radar report merge`: which
    shard of which scan it is, its warnings and what it could not read (by kind), and the CI/CD
    variables that hold credentials (flags and fingerprints, never values), from which the merge
    finds the same credential stored in projects that different shards read."""

    shard: Shard
    scope: Scope
    unreadable: tuple[tuple[str, int], ...]  # (noun, count), as ScanStats.unreadable
    credentials: tuple[VariableRecord, ...]

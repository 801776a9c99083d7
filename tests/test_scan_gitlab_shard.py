"""`radar scan gitlab --shard I/N` and `radar report merge` on an organisation of 2,000 projects.

The whole CLI runs in this process (`radar.cli.main`, `--jobs 1`) against the fake GitLab of
tests/gitlab_fake.py, with the report clock fixed, so that an unsharded scan and the merge of its
shards can be compared byte for byte, timestamps included, in the json, gitlab and sarif formats.
The fake's request log tells which shard read which project.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gitlab_fake import TOKEN, Group, IndexedGitLab, Project, serving, variable
from radar.cli import main
from radar.scan.examples import expand
from radar.scan.shard import shard_of

MOMENT = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
PROJECTS = 2000
GROUP = "org"
_VARIABLES = re.compile(r"^/api/v4/projects/([0-9]+)/(?:variables|repository/)")
_HARMLESS = (("LOG_LEVEL", "debug"), ("REGION", "eu-west-1"), ("REPLICAS", "3"))


def _token(seed: str) -> str:
    return "glpat-" + expand("{b64url:20}", seed)


# Values stored in many projects, so that the same credential sits in projects of different shards.
SHARED = tuple(_token(f"shard-shared-{i}") for i in range(40))


def _project(n: int, project_id: int, rng: random.Random) -> Project:
    namespace = f"{GROUP}/sub" if n % 5 == 0 else GROUP
    variables = []
    for j in range(rng.randrange(0, 4)):
        pick = rng.random()
        if pick < 0.35:
            variables.append(variable(f"DEPLOY_TOKEN_{j}", rng.choice(SHARED), masked=rng.random() < 0.5,
                                      protected=rng.random() < 0.5, environment_scope=rng.choice(("*", "production"))))
        elif pick < 0.5:
            variables.append(variable(f"API_TOKEN_{j}", _token(f"shard-own-{n}-{j}")))
        elif pick < 0.55:
            variables.append(variable("VAULT_TOKEN", rng.choice(SHARED), hidden=True, protected=True))
        elif pick < 0.65:
            variables.append(variable("DB_PASSWORD", expand("{alnum:20}", f"shard-db-{n % 50}"), masked=True))
        else:
            variables.append(variable(*_HARMLESS[j]))
    files = {}
    if n % 7 == 0:
        files[".gitlab-ci.yml"] = (f"variables:\n  API_TOKEN: \"{rng.choice(SHARED)}\"\n"
                                   "deploy:\n  script:\n    - vault login jwt=$CI_JOB_JWT_V2\n")
    return Project(project_id, f"{namespace}/service-{n:05d}", files=files, variables=variables,
                   default_branch=None if n % 3 == 0 else "main", archived=n % 11 == 0,
                   error=403 if n in (17, 1234) else None)


def populate(gl: IndexedGitLab, projects: int, seed: int = 14) -> None:
    rng = random.Random(seed)
    gl.groups = [Group(7, GROUP, [variable("GROUP_DEPLOY_TOKEN", SHARED[0]), variable("GIT_DEPTH", "10"),
                                  variable("NPM_TOKEN", "npm_" + expand("{alnum:36}", "shard-npm"))]),
                 Group(8, f"{GROUP}/sub", [variable("SUB_PASSWORD", SHARED[1], masked=True)])]
    ids = rng.sample(range(100, 10_000_000), projects)
    gl.projects = [_project(n, project_id, rng) for n, project_id in enumerate(ids)]


def add_projects(gl: IndexedGitLab, count: int) -> None:
    rng = random.Random(99)
    taken = {p.id for p in gl.projects}
    start = len(gl.projects)
    ids = [i for i in rng.sample(range(100, 10_000_000), count * 2) if i not in taken][:count]
    gl.projects = gl.projects + [_project(start + n, project_id, rng) for n, project_id in enumerate(ids)]


@pytest.fixture(scope="module")
def org():
    with serving(IndexedGitLab()) as gl:
        populate(gl, PROJECTS)
        yield gl


def _fix(mp: pytest.MonkeyPatch) -> None:
    """The report clock fixed, one fingerprint key, the fake's token, and no CI job around."""
    mp.setattr("radar.report.context.now", lambda: MOMENT)
    mp.setenv("RADAR_FINGERPRINT_KEY", "shard-test-key")
    mp.setenv("GITLAB_TOKEN", TOKEN)
    for name in ("CI_JOB_TOKEN", "CI_SERVER_URL", "CI_NODE_INDEX", "CI_NODE_TOTAL"):
        mp.delenv(name, raising=False)


@pytest.fixture
def fixed_clock(monkeypatch):
    _fix(monkeypatch)


def run(*args: str) -> int:
    return main([str(a) for a in args])


def scan(gl, output: Path, *extra: str, fmt: str = "json") -> tuple[int, set[int], list[str]]:
    """Exit status, the ids of the projects whose variables or files were read, and every request."""
    gl.requests.clear()
    status = run("scan", "gitlab", "--url", gl.url, "--group", GROUP, "--include-subgroups", "--jobs", "1",
                 "--format", fmt, "--output", output, *extra)
    read = {int(m.group(1)) for r in gl.requests if (m := _VARIABLES.match(r))}
    return status, read, list(gl.requests)


@pytest.fixture(scope="module")
def unsharded(org, tmp_path_factory):
    """The unsharded scan's reports in json, gitlab and sarif (one scan each, as a user would run)."""
    work = tmp_path_factory.mktemp("unsharded")
    with pytest.MonkeyPatch.context() as mp:
        _fix(mp)
        reports = {}
        for fmt in ("json", "gitlab", "sarif"):
            status, read, _ = scan(org, work / f"full.{fmt}", fmt=fmt)
            assert status == 2  # two projects answer 403: incomplete, and the report says so
            reports[fmt] = (work / f"full.{fmt}").read_bytes()
    return reports, read


@pytest.fixture(scope="module")
def sharded(org, tmp_path_factory):
    """`sharded(N)`: each shard's report file and the ids of the projects it read, scanned once per N."""
    done: dict[int, tuple[list[Path], list[set[int]]]] = {}

    def shards(total: int) -> tuple[list[Path], list[set[int]]]:
        if total not in done:
            work = tmp_path_factory.mktemp(f"shards-{total}")
            files, reads = [], []
            with pytest.MonkeyPatch.context() as mp:
                _fix(mp)
                for index in range(1, total + 1):
                    path = work / f"shard-{index}.json"
                    status, read, requests = scan(org, path, "--shard", f"{index}/{total}")
                    assert status == (2 if index in {shard_of(p.id, total) for p in org.projects if p.error} else 1)
                    # Group and subgroup variables are read by shard 1 alone; the others list only projects.
                    group_reads = [r for r in requests if r.startswith("/api/v4/groups/") and (
                        "/variables" in r or "/descendant_groups" in r)]
                    assert bool(group_reads) == (index == 1)
                    files.append(path)
                    reads.append(read)
            done[total] = files, reads
        return done[total]

    return shards


@pytest.mark.parametrize("total", [1, 3, 4, 7])
def test_the_merged_shards_are_the_unsharded_report_byte_for_byte(unsharded, sharded, fixed_clock, tmp_path, total):
    reports, everything = unsharded
    shard_files, reads = sharded(total)
    # Every project the unsharded scan read, in exactly one shard: the shard its id hashes to.
    assert sum(len(r) for r in reads) == len(everything)
    assert set().union(*reads) == everything
    for index, read in enumerate(reads, 1):
        assert all(shard_of(project_id, total) == index for project_id in read)
    formats = ("json", "gitlab", "sarif") if total in (4, 7) else ("json",)
    for fmt in formats:
        merged = tmp_path / f"merged.{fmt}"
        status = run("report", "merge", *shard_files, "--format", fmt, "--output", merged)
        assert status == 2  # incomplete, like the unsharded scan
        assert_same_bytes(merged.read_bytes(), reports[fmt], fmt)


def test_merging_the_unsharded_report_gives_it_back(unsharded, fixed_clock, tmp_path):
    reports, _ = unsharded
    full = tmp_path / "full.json"
    full.write_bytes(reports["json"])
    status = run("report", "merge", full, "--format", "json", "--output", tmp_path / "again.json")
    assert status == 2
    assert_same_bytes((tmp_path / "again.json").read_bytes(), reports["json"], "json")


def test_the_org_has_what_the_merge_must_recompute(unsharded):
    """The comparison above is only as good as the org: it must hold credentials duplicated across
    many projects, hidden variables, CI file findings and unreadable projects."""
    import json

    document = json.loads(unsharded[0]["json"])
    rules = Counter(f["rule_id"] for f in document["findings"])
    assert rules["gitlab-variable-duplicated"] >= 30
    widest = max(int(re.search(r"stored in ([0-9]+) places", f["description"]).group(1))
                 for f in document["findings"] if f["rule_id"] == "gitlab-variable-duplicated")
    assert widest >= 20
    assert rules["gitlab-ci-job-jwt"] > 100 and rules["gitlab-personal-access-token"] > 500
    assert document["summary"]["unreadable"] == 2 and document["scan"]["complete"] is False


def test_adding_projects_moves_no_project_to_another_shard(org, sharded, fixed_clock, tmp_path):
    before = sharded(4)[1]
    old = {p.id for p in org.projects}
    added = len(org.projects)
    add_projects(org, 100)
    try:
        after = [scan(org, tmp_path / f"after-{i}.json", "--shard", f"{i}/4")[1] for i in range(1, 5)]
    finally:
        org.projects = org.projects[:added]
    for i in range(4):
        assert after[i] & old == before[i]
    new = set().union(*after) - old
    assert len(new) >= 80  # the readable new projects, spread over the shards
    assert all(len(a - old) > 0 for a in after)


def test_projects_are_spread_evenly():
    rng = random.Random(3)
    for ids in (range(1, 2001), range(1000, 2000 * 4 + 1000, 4), rng.sample(range(10**9), 2000)):
        for total in (3, 4, 7):
            counts = Counter(shard_of(i, total) for i in ids)
            assert set(counts) == set(range(1, total + 1))
            expected = len(ids) / total
            assert all(abs(c - expected) < 0.2 * expected for c in counts.values()), counts


def assert_same_bytes(got: bytes, expected: bytes, fmt: str) -> None:
    """Equal reports, or a failure naming the first differing line number (never the lines: reports
    show previews, and this must not print them)."""
    if got == expected:
        return
    got_lines, expected_lines = got.splitlines(), expected.splitlines()
    first = next((n for n, (a, b) in enumerate(zip(got_lines, expected_lines), 1) if a != b),
                 min(len(got_lines), len(expected_lines)) + 1)
    raise AssertionError(f"the merged {fmt} report differs from the unsharded one from line {first} "
                         f"({len(got_lines)} lines against {len(expected_lines)})")

"""`--shard I/N` and `radar report merge`: the shard function's properties, the merge on random
organisations, and every input the two refuse.

The 2,000-project comparison is in tests/test_scan_gitlab_shard.py; here organisations are small
and random (hypothesis), so that values shared across projects, groups and shards, hidden and
unreadable variables, CI files and every report format meet in combinations no fixed org has.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitlab_fake import TOKEN, Group, IndexedGitLab, Project, serving, variable
from radar.cli import main
from radar.plan.load import ReportError
from radar.report.merge import merge_reports
from radar.scan.examples import expand
from radar.scan.shard import MAX_SHARDS, Shard, ShardError, parse_shard, shard_of
from radar_cli import assert_one_line_error, clean_env, radar
from test_scan_gitlab_shard import MOMENT, assert_same_bytes

GROUP = "acme"
# Credentials several places may share; made from seeds, so every run has the same values.
POOL = tuple("glpat-" + expand("{b64url:20}", f"shard-cases-{i}") for i in range(4))
FORMATS = ("json", "gitlab", "sarif", "csv", "markdown", "html", "text")


# -- the shard function -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("3/4", (3, 4)), ("200/200", (200, 200)),
                                            ("007/9", (7, 9))])
def test_shard_forms_accepted(text, expected):
    shard = parse_shard(text, {})
    assert (shard.index, shard.total) == expected


@pytest.mark.parametrize("text, says", [
    ("0/4", "I must be between 1 and N (4)"), ("5/4", "I must be between 1 and N (4)"),
    ("1/0", "N must be between 1 and 200"), ("1/201", "N must be between 1 and 200"),
    ("2", "not I/N"), ("1/4/", "not I/N"), (" 1/4", "not I/N"), ("-1/4", "not I/N"), ("a/b", "not I/N"),
    ("", "not I/N"), ("1/99999999999", "not I/N"), ("١/٤", "not I/N"),  # Arabic-Indic digits are not accepted
])
def test_shard_forms_refused(text, says):
    with pytest.raises(ShardError) as refused:
        parse_shard(text, {})
    assert says in str(refused.value)


@pytest.mark.parametrize("environ, expected", [
    ({"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "5"}, (2, 5)),
    ({}, (1, 1)),  # a job without parallel: is the one shard of one
])
def test_shard_auto_reads_gitlabs_parallel_variables(environ, expected):
    shard = parse_shard("auto", environ)
    assert (shard.index, shard.total) == expected


@pytest.mark.parametrize("environ, says", [
    ({"CI_NODE_INDEX": "2"}, "must both be set"), ({"CI_NODE_TOTAL": "3"}, "must both be set"),
    ({"CI_NODE_INDEX": "4", "CI_NODE_TOTAL": "3"}, "(from CI_NODE_INDEX/CI_NODE_TOTAL): I must be between"),
])
def test_shard_auto_refuses_half_a_parallel_job(environ, says):
    with pytest.raises(ShardError) as refused:
        parse_shard("auto", environ)
    assert says in str(refused.value)


@given(st.text(max_size=30) | st.from_regex(r"[0-9]{1,4}/[0-9]{1,4}", fullmatch=True))
def test_parse_shard_gives_a_valid_shard_or_a_shard_error(text):
    form = re.fullmatch(r"([0-9]{1,9})/([0-9]{1,9})", text)
    numbers = (int(form.group(1)), int(form.group(2))) if form else None
    valid = numbers is not None and 1 <= numbers[0] <= numbers[1] <= MAX_SHARDS
    try:
        shard = parse_shard(text, {})
    except ShardError:
        assert not valid
    else:
        assert valid and (shard.index, shard.total) == numbers


@given(ids=st.sets(st.integers(1, 2**62), min_size=1, max_size=200), total=st.integers(1, MAX_SHARDS),
       more=st.sets(st.integers(1, 2**62), max_size=50))
def test_each_project_is_in_exactly_one_shard_and_stays_there(ids, total, more):
    owners = {i: [s for s in range(1, total + 1) if Shard(s, total).owns(i)] for i in ids}
    assert all(len(found) == 1 for found in owners.values())
    assert all(owners[i] == [shard_of(i, total)] for i in ids)
    # Adding projects (any ids) changes nothing for the projects already there.
    after = {i: shard_of(i, total) for i in ids | more}
    assert all(after[i] == owners[i][0] for i in ids)


# -- the merge on random organisations ----------------------------------------------------------

@pytest.fixture(scope="module")
def small_org():
    with serving(IndexedGitLab()) as gl:
        yield gl


def test_the_fake_answers_from_the_organisation_it_now_holds(small_org):
    """The merge tests below replace the organisation the property test left, often by one of as many
    projects: the fake must not answer from the old one's index (it did, and they failed at random)."""
    before = [Project(100 + i, f"{GROUP}/old{i}") for i in range(8)]
    small_org.projects = before
    assert small_org.project("100") is before[0]
    after = [Project(200 + i, f"{GROUP}/new{i}") for i in range(8)]
    small_org.projects = after
    assert (small_org.project("200"), small_org.project("100")) == (after[0], None)


def _value(draw) -> str:
    return draw(st.sampled_from(POOL))


@st.composite
def variables(draw, group: bool = False) -> list[dict]:
    out = []
    for n in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(("pooled", "pooled", "harmless", "hidden", "named")))
        scope = draw(st.sampled_from(("*", "production")))
        flags = {"masked": draw(st.booleans()), "protected": draw(st.booleans()), "environment_scope": scope}
        if kind == "pooled":
            out.append(variable(f"DEPLOY_TOKEN_{n}", _value(draw), **flags))
        elif kind == "harmless":
            out.append(variable(f"LOG_LEVEL_{n}", "debug", **flags))
        elif kind == "hidden" and not group:
            out.append(variable(f"VAULT_TOKEN_{n}", None, hidden=True, protected=flags["protected"]))
        else:  # a key that names a secret, a value no detector matches
            out.append(variable(f"DB_PASSWORD_{n}", draw(st.sampled_from(("hunter2-x", "s3cr3t-y"))), **flags))
    return out


@st.composite
def organisations(draw) -> tuple[list[Group], list[Project]]:
    groups = [Group(11, GROUP, draw(variables(group=True))), Group(12, f"{GROUP}/team", draw(variables(group=True)))]
    ids = draw(st.lists(st.integers(1, 10**7), min_size=1, max_size=8, unique=True))
    projects = []
    for n, project_id in enumerate(ids):
        files = {}
        if draw(st.booleans()):
            files[".gitlab-ci.yml"] = f"variables:\n  TOKEN: \"{_value(draw)}\"\njob:\n  script: [echo $CI_JOB_JWT]\n"
        projects.append(Project(project_id, f"{draw(st.sampled_from((GROUP, GROUP + '/team')))}/p{n}",
                                files=files, variables=draw(variables()),
                                error=draw(st.sampled_from((None, None, None, None, 403)))))
    return groups, projects


def _scan(gl, output: Path, fmt: str, *extra: str) -> int:
    return main(["scan", "gitlab", "--url", gl.url, "--group", GROUP, "--include-subgroups", "--jobs", "1",
                 "--format", fmt, "--output", str(output), *extra])


def _fixed(mp: pytest.MonkeyPatch, key: str = "shard-cases-key") -> None:
    mp.setattr("radar.report.context.now", lambda: MOMENT)
    mp.setenv("RADAR_FINGERPRINT_KEY", key)
    mp.setenv("GITLAB_TOKEN", TOKEN)
    for name in ("CI_JOB_TOKEN", "CI_SERVER_URL", "CI_NODE_INDEX", "CI_NODE_TOTAL"):
        mp.delenv(name, raising=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(org=organisations(), total=st.integers(1, 4), fmt=st.sampled_from(FORMATS))
def test_merged_shards_equal_the_unsharded_scan_on_any_org(small_org, tmp_path_factory, org, total, fmt):
    small_org.groups, small_org.projects = org
    work = tmp_path_factory.mktemp("org")
    with pytest.MonkeyPatch.context() as mp:
        _fixed(mp)
        expected_status = _scan(small_org, work / "full", fmt)
        shards = [work / f"shard-{i}.json" for i in range(1, total + 1)]
        statuses = [_scan(small_org, path, "json", "--shard", f"{i}/{total}") for i, path in enumerate(shards, 1)]
        status = main(["report", "merge", *map(str, shards), "--format", fmt, "--output", str(work / "merged")])
    assert status == expected_status
    assert max(statuses) == 2 if expected_status == 2 else all(s in (0, 1) for s in statuses)
    assert_same_bytes((work / "merged").read_bytes(), (work / "full").read_bytes(), fmt)


# -- what the merge refuses ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def shard_reports(small_org, tmp_path_factory):
    """A clean-enough org scanned in 2 shards under one key, and shard 2 again under another key."""
    small_org.groups = [Group(11, GROUP, [variable("GROUP_TOKEN", POOL[0])])]
    small_org.projects = [Project(i, f"{GROUP}/p{i}", variables=[variable("DEPLOY_TOKEN", POOL[0])])
                          for i in range(1, 9)]
    work = tmp_path_factory.mktemp("refused")
    with pytest.MonkeyPatch.context() as mp:
        _fixed(mp)
        for i in (1, 2):
            _scan(small_org, work / f"shard-{i}.json", "json", "--shard", f"{i}/2")
        _scan(small_org, work / "shard-1-of-3.json", "json", "--shard", "1/3")
        _scan(small_org, work / "full.json", "json")
        _fixed(mp, key="another-key")
        _scan(small_org, work / "shard-2-other-key.json", "json", "--shard", "2/2")
    return work


def _merge(*paths: Path) -> tuple[int, str]:
    import io
    from contextlib import redirect_stderr, redirect_stdout

    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        status = main(["report", "merge", *map(str, paths), "--format", "json"])
    return status, err.getvalue()


@pytest.mark.parametrize("names, says", [
    (("shard-1.json", "shard-2-other-key.json"), "were made with different fingerprint keys"),
    (("shard-1.json",), "shard 2 of 2 is missing"),
    (("shard-1.json", "shard-2.json", "shard-2.json"), "shard 2/2 is given twice"),
    (("shard-1.json", "shard-1-of-3.json"), "not shards of one scan"),
    (("shard-1.json", "full.json"), "not a shard report (made without --shard)"),
    (("shard-1.json", "missing.json"), "missing.json"),
])
def test_merge_refuses_reports_that_are_not_every_shard_of_one_scan(shard_reports, names, says):
    status, err = _merge(*(shard_reports / name for name in names))
    assert status == 2
    assert err.startswith("radar: error: ") and err.count("\n") == 1
    assert says in err


def test_merge_of_both_shards_finds_the_duplicate_no_shard_saw(shard_reports):
    shards = [json.loads((shard_reports / f"shard-{i}.json").read_text()) for i in (1, 2)]
    assert not any(f["rule_id"] == "gitlab-variable-duplicated" for s in shards for f in s["findings"])
    merged = merge_reports([(f"shard-{i}", s) for i, s in enumerate(shards, 1)])
    duplicated = [f for f in merged.findings if f.rule_id == "gitlab-variable-duplicated"]
    assert len(duplicated) == 1 and "stored in 9 places" in duplicated[0].description


def test_shard_reports_hold_fingerprints_never_values(shard_reports):
    text = (shard_reports / "shard-1.json").read_text()
    document = json.loads(text)
    assert document["shard"]["credentials"], "the shard report lists no credential variable"
    if any(value in text for value in POOL):
        raise AssertionError("a shard report holds a credential's value")


def _shard_document(shard_reports: Path, index: int = 1) -> dict:
    return json.loads((shard_reports / f"shard-{index}.json").read_text())


@given(started=st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", fullmatch=True))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_merge_takes_any_time_the_schema_allows_or_refuses_it_clearly(shard_reports, started):
    documents = [_shard_document(shard_reports, i) for i in (1, 2)]
    documents[1]["scan"]["started"] = started
    try:
        merged = merge_reports([("a.json", documents[0]), ("b.json", documents[1])])
    except ReportError as e:
        assert "b.json" in str(e) and "scan.started" in str(e)
    else:
        merged_started = merged.context.as_dict()["started"]  # as the merged report writes it
        assert merged_started == min(started, documents[0]["scan"]["started"])


def test_merge_refuses_more_shards_than_gitlab_runs_at_once(shard_reports, tmp_path):
    document = _shard_document(shard_reports)
    document["shard"]["total"] = MAX_SHARDS + 1
    (tmp_path / "big.json").write_text(json.dumps(document))
    status, err = _merge(tmp_path / "big.json", shard_reports / "shard-2.json")
    assert status == 2 and err.count("\n") == 1
    assert "shard.total" in err and "200" in err


def test_merge_of_an_incomplete_shard_is_incomplete(shard_reports, tmp_path):
    document = _shard_document(shard_reports)
    document["scan"]["complete"] = False
    document["shard"]["unreadable"] = {"project": 1}
    document["summary"]["unreadable"] = 1
    (tmp_path / "incomplete.json").write_text(json.dumps(document))
    status, err = _merge(tmp_path / "incomplete.json", shard_reports / "shard-2.json")
    assert status == 2
    assert err.strip().splitlines()[-1] == "radar: error: scan incomplete: 1 project could not be read " \
                                           "(the scan's warnings named each)"


def test_merge_exits_like_a_scan(shard_reports, small_org, tmp_path):
    assert _merge(shard_reports / "shard-1.json", shard_reports / "shard-2.json")[0] == 1
    small_org.groups = [Group(11, GROUP)]
    small_org.projects = [Project(i, f"{GROUP}/p{i}", variables=[variable("LOG_LEVEL", "debug")]) for i in (1, 2, 3)]
    with pytest.MonkeyPatch.context() as mp:
        _fixed(mp)
        for i in (1, 2):
            assert _scan(small_org, tmp_path / f"{i}.json", "json", "--shard", f"{i}/2") == 0
    assert _merge(tmp_path / "1.json", tmp_path / "2.json") == (0, "")


# -- the command line ---------------------------------------------------------------------------

def test_a_shard_count_out_of_range_is_one_error_line():
    result = radar("scan", "gitlab", "--url", "http://127.0.0.1:9", "--group", GROUP, "--shard", "5/4",
                   env=clean_env(GITLAB_TOKEN=TOKEN))
    assert result.returncode == 2
    assert "--shard 5/4: I must be between 1 and N (4)" in assert_one_line_error(result)


@pytest.mark.parametrize("args, says", [
    (("--shard", "1/4", "--format", "sarif"), "--shard writes a part of a report for radar report merge"),
    (("--shard", "1/2", "--format", "json", "--plan", "plan.json"), "--plan needs every shard's findings"),
    (("--shard", "1/2", "--format", "json", "--baseline", "b.toml"), "a shard cannot see the findings other shards"),
])
def test_options_a_shard_cannot_honour_are_usage_errors(args, says):
    result = radar("scan", "gitlab", "--url", "http://127.0.0.1:9", "--group", GROUP, *args,
                   env=clean_env(GITLAB_TOKEN=TOKEN))
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2 and result.stdout == b""
    assert lines[0].startswith("usage: radar scan gitlab "), lines[0]
    assert lines[-1].startswith("radar scan gitlab: error: ") and says in lines[-1], lines[-1]


def test_scan_gitlab_shard_auto_uses_the_jobs_node_index(small_org, tmp_path):
    small_org.groups = [Group(11, GROUP, [variable("GROUP_TOKEN", POOL[1])])]
    small_org.projects = [Project(i, f"{GROUP}/p{i}", variables=[variable("DEPLOY_TOKEN", POOL[2])])
                          for i in range(1, 30)]
    result = radar("scan", "gitlab", "--url", small_org.url, "--group", GROUP, "--shard", "auto", "--format", "json",
                   "--output", tmp_path / "3.json",
                   env=clean_env(GITLAB_TOKEN=TOKEN, CI_NODE_INDEX="3", CI_NODE_TOTAL="5", RADAR_FINGERPRINT_KEY="k"))
    assert result.returncode == 1, result.stderr
    document = json.loads((tmp_path / "3.json").read_text())
    assert (document["shard"]["index"], document["shard"]["total"]) == (3, 5)
    owners = {f.get("project") for f in document["findings"]}  # a group finding would add None
    assert owners == {f"{GROUP}/p{i}" for i in range(1, 30) if shard_of(i, 5) == 3}


def test_merge_validates_its_inputs_with_the_report_schema(tmp_path, shard_reports):
    document = _shard_document(shard_reports)
    broken = copy.deepcopy(document)
    broken["shard"]["credentials"][0]["value"] = "anything"  # a value has no place in a report
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    status, err = _merge(tmp_path / "broken.json", shard_reports / "shard-2.json")
    assert status == 2 and "broken.json: not a radar findings report" in err


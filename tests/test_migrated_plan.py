"""The migration plan as `--migrated` input: the plan JSON names its fingerprint key; a plan file is
hostile input like any other (one `radar: error:` line, exit 2, nothing echoed from it, bounded), and
the reader never fails any other way on any JSON (property test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radar.plan.read import MigrationPlanError, check_key, parse_migration
from radar.scan.findings import FingerprintKey
from radar_cli import assert_one_line_error, clean_env, radar

KEY = "migrated-plan"
ENV = clean_env(RADAR_FINGERPRINT_KEY=KEY)
KEY_ID = FingerprintKey(KEY.encode()).key_id
PASSWORD = "Vq3#xL9pK2mW7zR4tY8n"


def plan_document(key_id: str | None = KEY_ID, **changes) -> dict:
    """The fields of `radar plan --format json` that --migrated reads (a real plan has more)."""
    document = {
        "plan": {"source": "/work/app", "complete": True, "fingerprint_key_id": key_id},
        "entries": [{"fingerprint": "ab" * 32, "mount": "secret", "path": "ci/acme/api/production",
                     "field": "db_password", "vault": "ci/acme/api/production/db_password@secret", "file": False,
                     "places": [{"path": "variables/DB_PASSWORD[production]", "line": 1, "project": "acme/api",
                                 "variable_key": "DB_PASSWORD", "environment_scope": "production"}]}],
        "targets": [{"project": "acme/api", "environment": "production", "ci_template": ".vault-acme-api-production",
                     "secrets": [{"variable": "DB_PASSWORD", "vault": "ci/acme/api/production/db_password@secret",
                                  "file": False}]}],
    }
    document.update(changes)
    return document


def write(tmp_path: Path, content: object, name: str = "plan.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.fixture
def app(tmp_path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "settings.env").write_text(f"DB_PASSWORD={PASSWORD}\n")
    return root


# --- the plan names its key ---------------------------------------------------------------------

def test_a_report_without_a_key_id_makes_a_plan_that_says_so_and_migrated_refuses_it(app, tmp_path):
    report = json.loads(radar("scan", app, "--format", "json", env=ENV).stdout)
    del report["scan"]["fingerprint_key_id"]  # a report of radar before the key id
    plan = tmp_path / "plan.json"
    assert radar("plan", write(tmp_path, report, "old.json"), "--format", "json", "--output", plan,
                 env=ENV).returncode == 3
    assert json.loads(plan.read_text())["plan"]["fingerprint_key_id"] is None
    result = radar("scan", app, "--migrated", plan, env=ENV)
    assert result.returncode == 2
    assert "does not name its fingerprint key" in assert_one_line_error(result, PASSWORD.encode())


# --- hostile plan files ---------------------------------------------------------------------------

BAD_PLANS = [
    ("not json {", "not JSON (Expecting value at line 1 column 1)"),
    ("[" * 100_000, "not a plan radar can read: arrays and objects nested too deeply"),
    ([], "not a radar migration plan: the document must be an object, not a list"),
    ({"findings": []}, "not a radar migration plan: the document lacks plan, entries, targets"),
    (plan_document(key_id="XYZ"), "plan.fingerprint_key_id must match ^[0-9a-f]{12}$"),
    (plan_document(entries=[{"fingerprint": PASSWORD}]), "entries[0].fingerprint must match"),
    (plan_document(entries=[{**plan_document()["entries"][0], "file": "yes"}]),
     "entries[0].file must be true or false, not a string"),
    (plan_document(targets=[{"project": "a", "ci_template": ".x", "secrets": [{"variable": ""}]}]),
     "targets[0].secrets[0].variable must not be empty"),
    ({**plan_document(), "entries": [{**plan_document()["entries"][0],
                                     "places": [{"path": "p", "line": "one", "project": "a"}]}]},
     "entries[0].places[0].line must be a whole number, not a string"),
]


@pytest.mark.parametrize("content, expected", BAD_PLANS, ids=range(len(BAD_PLANS)))
def test_a_bad_plan_is_one_error_line_naming_the_place(app, tmp_path, content, expected):
    path = write(tmp_path, content)
    result = radar("scan", app, "--migrated", path, env=ENV)
    assert result.returncode == 2
    message = assert_one_line_error(result, PASSWORD.encode())
    assert message.startswith(f"radar: error: --migrated {path}: ")
    assert expected in message
    assert "radar plan FINDINGS.json --format json" in message or "fingerprint" in message


def test_files_that_are_not_plans_at_all(app, tmp_path):
    for content, expected in ((b"\xff\xfe", "not UTF-8 text (byte 1)"), (None, "no such file")):
        path = write(tmp_path, content) if content is not None else tmp_path / "missing.json"
        message = assert_one_line_error(radar("scan", app, "--migrated", path, env=ENV))
        assert expected in message
    assert "is a directory" in assert_one_line_error(radar("scan", app, "--migrated", tmp_path, env=ENV))


def test_a_plan_made_under_another_key_is_refused_before_the_scan(app, tmp_path):
    path = write(tmp_path, plan_document(key_id="0123456789ab"))
    result = radar("scan", app, "--migrated", path, env=ENV)
    assert result.returncode == 2 and result.stdout == b""
    message = assert_one_line_error(result)
    assert f"was made with fingerprint key id 0123456789ab; this run uses {KEY_ID}" in message


def test_the_reader_takes_what_the_plan_moved():
    migration = parse_migration(json.dumps(plan_document()))
    check_key(migration, FingerprintKey(KEY.encode()))
    assert [(v.owner, v.key, v.environment_scope, v.value.vault) for v in migration.variables] == [
        ("acme/api", "DB_PASSWORD", "production", "ci/acme/api/production/db_password@secret")]
    assert list(migration.by_fingerprint) == ["ab" * 32]
    assert [(s.project, s.template, s.variable) for s in migration.secrets] == [
        ("acme/api", ".vault-acme-api-production", "DB_PASSWORD")]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["plan", "entries", "targets", "fingerprint", "places", "secrets", "file", "x"])
        | st.text(max_size=8),
        children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_values)
def test_any_json_is_a_plan_or_one_migration_plan_error(document):
    try:
        parse_migration(json.dumps(document))
    except MigrationPlanError as e:
        assert "\n" not in str(e)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_valid_plan_with_any_field_mangled_is_read_or_refused_cleanly(data):
    document = plan_document()
    entry = document["entries"][0]
    field = data.draw(st.sampled_from(sorted(entry)))
    entry[field] = data.draw(json_values)
    try:
        migration = parse_migration(json.dumps(document))
    except MigrationPlanError as e:
        assert str(e).startswith("--migrated <plan>: not a radar migration plan: entries[0].")
    else:
        assert len(migration.values) == 1

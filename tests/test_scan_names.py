"""The name a finding's value is assigned to: what the migration plan names Vault fields after."""

import json

import pytest
from hypothesis import given, strategies as st

from radar.scan.examples import expand
from radar.scan.generic import assigned_name
from radar_cli import clean_env, radar


@pytest.mark.parametrize("before, name", [
    ("GITHUB_TOKEN=", "GITHUB_TOKEN"),
    ('export GITHUB_TOKEN="', "GITHUB_TOKEN"),
    ('  "api_key": "', "api_key"),
    ("password: '", "password"),
    ("<password>", "password"),
    ("run --password ", "password"),
    ("ENV NPM_TOKEN ", "NPM_TOKEN"),
    ("spring.datasource.password=", "spring.datasource.password"),
    ("key := `", "key"),
    # Makefile, PHP and typed assignments, calls that pass a name, and environ["X"] = .
    ('DEPLOY_TOKEN ?= "', "DEPLOY_TOKEN"),
    ("DEPLOY_TOKEN :::= ", "DEPLOY_TOKEN"),
    ('$apiToken .= "', "apiToken"),
    ('var apiToken string = "', "apiToken"),
    ('val apiToken: String = "', "apiToken"),
    ('System.setProperty("API_TOKEN", "', "API_TOKEN"),
    ('os.environ["API_TOKEN"] = "', "API_TOKEN"),
    ('headers = {"Authorization": "Bearer ', "Authorization"),
    ('curl -H "PRIVATE-TOKEN: ', "PRIVATE-TOKEN"),
    ("DATABASE_URL=postgres://user:", "DATABASE_URL"),  # a URL's user name is not the variable
    ("  - echo ", None),
    ("", None),
])
def test_assigned_name(before, name):
    assert assigned_name(before) == name


@given(st.text(max_size=300))
def test_assigned_name_is_a_plain_name_or_none(before):
    name = assigned_name(before)
    assert name is None or (name and name in before and not any(c.isspace() for c in name))


def test_scan_json_names_each_finding_after_its_variable(tmp_path):
    token = "ghp_" + expand("{ghcrc:30}", "names")
    (tmp_path / "deploy.env").write_text(f"DEPLOY_GITHUB_TOKEN={token}\n")
    result = radar("scan", tmp_path, "--format", "json", env=clean_env(RADAR_FINGERPRINT_KEY="k"))
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [f["name"] for f in findings] == ["DEPLOY_GITHUB_TOKEN"]

"""`.radar.toml` in real scans: a directory, git history (work tree and bare), and GitLab (fake server),
through the real CLI. A rule the configuration adds is found and described in every report; a
disabled rule finds nothing; each allowlist kind, global and per rule, hides what it names (shown
with --show-ignored, with the entry that allowed it) and nothing else; the compiled prefilter
cache never serves a changed configuration a stale rule set."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from git_repo import Repo
from gitlab_fake import TOKEN, FakeGitLab, Project, gitlab_server, variable  # noqa: F401
from radar.report.json import SCHEMA_PATH
from radar.scan.config import load_config
from radar.scan.engine import Engine
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.prefilter import hyperscan
from radar.scan.rules import load_default_rules
from radar_cli import RADAR, assert_one_line_error, clean_env, radar
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator

ACME = "acme_" + expand("{lowernum:24}", "config-acme")
ACME_TEST = "acme_" + expand("{lowernum:20}", "config-acme-test") + "test"
PASSWORD = expand("{alnum:20}", "config-password")
LOCALDEV = "LocalDev" + expand("{alnum:14}", "config-localdev")
GITLAB_PAT = "glpat-" + expand("{b64url:20}", "config-gitlab")
DOCS_PAT = "glpat-" + expand("{b64url:20}", "config-docs")
PLANTED = (ACME, ACME_TEST, PASSWORD, LOCALDEV, GITLAB_PAT, DOCS_PAT)
ACME_RULE = """\
[[rules]]
id = "acme-internal-token"
description = "ACME internal API token"
secret_type = "ACME token"
docs = "https://wiki.acme.example/security/tokens"
severity = "critical"
regex = '''\\b(?P<secret>acme_[a-z0-9]{24})\\b'''
keywords = ["acme_"]
[rules.examples]
true = ["token = acme_{lowernum:24}"]
false = ["acme_{lowernum:10}"]
"""


def env(cache: Path | None = None) -> dict[str, str]:
    extra = {"RADAR_FINGERPRINT_KEY": "test-key"}
    if cache is not None:
        extra["XDG_CACHE_HOME"] = str(cache)
    return clean_env(**extra)


def assert_no_secret(result: subprocess.CompletedProcess) -> None:
    for n, secret in enumerate(PLANTED):
        if secret.encode() in result.stdout + result.stderr:
            raise AssertionError(f"planted value #{n} leaked into radar's output")


def scan(*args, cache: Path | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    result = radar("scan", *args, "--format", "json", "--jobs", "1", env=env(cache))
    assert_no_secret(result)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    validator(SCHEMA_PATH).validate(report)
    return result, report


def places(report: dict) -> set[tuple]:
    return {(f["rule_id"], f["path"], f.get("ignore_reason")) for f in report["findings"]}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    files = {
        "src/client.py": f'API_TOKEN = "{ACME}"\n',
        "src/settings.env": f"DB_PASSWORD={PASSWORD}\nDEV_PASSWORD={LOCALDEV}\n",
        "src/ci.env": f"GITLAB_TOKEN={GITLAB_PAT}\nACME={ACME_TEST}\n",
        "docs/setup.md": f"Use a token like `{DOCS_PAT}`.\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def write_config(root: Path, text: str) -> None:
    (root / ".radar.toml").write_text(text)


# --- added rules --------------------------------------------------------------------------------


def test_without_a_configuration_the_custom_token_is_not_found(tree):
    _, report = scan(tree)
    assert "acme-internal-token" not in {f["rule_id"] for f in report["findings"]}
    assert "config" not in report["scan"]


def test_an_added_rule_is_found_and_named_in_the_json_report(tree):
    write_config(tree, ACME_RULE)
    result, report = scan(tree)
    assert result.returncode == 1
    [acme] = [f for f in report["findings"] if f["rule_id"] == "acme-internal-token" and f["path"] == "src/client.py"]
    assert (acme["line"], acme["column"], acme["severity"], acme["secret_type"]) == (1, 14, "critical", "ACME token")
    assert acme["preview"] == "acme…" and not acme["ignored"]
    assert report["scan"]["config"] == {"path": f"{tree}/.radar.toml", "added_rules": ["acme-internal-token"],
                                        "disabled_rules": []}


def test_an_added_rule_has_its_own_sarif_rule_entry(tree):
    write_config(tree, ACME_RULE)
    result = radar("scan", tree, "--format", "sarif", env=env())
    assert_no_secret(result)
    document = json.loads(result.stdout)
    validator(SARIF_SCHEMA).validate(document)
    [run] = document["runs"]
    [rule] = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "acme-internal-token"]
    assert rule["helpUri"] == "https://wiki.acme.example/security/tokens"
    assert rule["shortDescription"]["text"] == "ACME internal API token."
    assert rule["properties"]["security-severity"] == "9.5" and "provider" in rule["properties"]["tags"]
    index = run["tool"]["driver"]["rules"].index(rule)
    assert {(r["ruleIndex"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for r in run["results"] if r["ruleId"] == "acme-internal-token"} >= {(index, "src/client.py")}


def test_an_added_rule_is_in_gitlabs_report_with_its_documentation(tree):
    write_config(tree, ACME_RULE)
    result = radar("scan", tree, "--format", "gitlab", env=env())
    assert_no_secret(result)
    document = json.loads(result.stdout)
    validator(GITLAB_SCHEMA).validate(document)
    [v] = [v for v in document["vulnerabilities"] if v["location"]["file"] == "src/client.py"]
    assert v["name"] == "ACME internal API token" and v["severity"] == "Critical"
    assert v["identifiers"] == [{"type": "radar_rule_id", "name": "radar rule acme-internal-token",
                                 "value": "acme-internal-token", "url": "https://wiki.acme.example/security/tokens"}]


def test_an_added_rule_rides_either_prefilter_engine_with_the_same_findings():
    config = load_config(ACME_RULE, ".radar.toml")
    rules = config.ruleset(load_default_rules())
    text = f'API_TOKEN = "{ACME}"\nother = "acme_short"\n'
    engines = ["ahocorasick"] + (["hyperscan"] if hyperscan is not None else [])
    results = {name: [(f.rule_id, f.line, f.column) for f in Engine(rules, FingerprintKey(b"k"), prefilter=name)
                      .scan(text, "src/a.py").findings] for name in engines}
    assert all(found == [("acme-internal-token", 1, 14)] for found in results.values()), results


# --- disable ------------------------------------------------------------------------------------


def test_a_disabled_rule_finds_nothing_and_the_report_says_so(tree):
    _, before = scan(tree)
    assert ("generic-password", "src/settings.env", None) in places(before)
    write_config(tree, 'disable = ["generic-password", "gitlab-personal-access-token"]\n')
    result, report = scan(tree, "--show-ignored")
    assert {f["rule_id"] for f in report["findings"]} & {"generic-password", "gitlab-personal-access-token"} == set()
    assert report["scan"]["config"]["disabled_rules"] == ["generic-password", "gitlab-personal-access-token"]


def test_no_config_ignores_a_found_file_and_config_replaces_it(tree, tmp_path):
    write_config(tree, 'disable = ["generic-password"]\n')
    _, ignored = scan(tree, "--no-config")
    assert "generic-password" in {f["rule_id"] for f in ignored["findings"]} and "config" not in ignored["scan"]
    other = tmp_path / "other.toml"
    other.write_text(ACME_RULE)
    _, replaced = scan(tree, "--config", other)
    rule_ids = {f["rule_id"] for f in replaced["findings"]}
    assert {"generic-password", "acme-internal-token"} <= rule_ids
    assert replaced["scan"]["config"]["path"] == str(other)


# --- allowlists ---------------------------------------------------------------------------------

ALLOWLIST_CASES = [
    # (configuration, what it hides: (rule, path, reason))
    ('[allowlist]\npaths = ["docs/"]\n',
     {("gitlab-personal-access-token", "docs/setup.md", "config: allowlist.paths[0]")}),
    ('[allowlist]\nregexes = ["^acme_", "test$"]\n',
     {("acme-internal-token", "src/client.py", "config: allowlist.regexes[0]"),
      ("acme-internal-token", "src/ci.env", "config: allowlist.regexes[0]")}),
    ('[allowlist]\nregexes = ["^nomatch", "test$"]\n',
     {("acme-internal-token", "src/ci.env", "config: allowlist.regexes[1]")}),
    ('[allowlist]\nstopwords = ["localdev"]\n',
     {("generic-password", "src/settings.env", "config: allowlist.stopwords[0]")}),
    ('[allowlist.rules.gitlab-personal-access-token]\npaths = ["docs/*.md"]\n',
     {("gitlab-personal-access-token", "docs/setup.md", "config: allowlist.rules.gitlab-personal-access-token.paths[0]")}),
    ('[allowlist.rules.acme-internal-token]\nregexes = ["test$"]\n',
     {("acme-internal-token", "src/ci.env", "config: allowlist.rules.acme-internal-token.regexes[0]")}),
    ('[allowlist.rules.generic-password]\nstopwords = ["LOCALDEV"]\n',
     {("generic-password", "src/settings.env", "config: allowlist.rules.generic-password.stopwords[0]")}),
    # A rule's allowlist leaves other rules alone: the PAT in docs/ is not a generic password.
    ('[allowlist.rules.generic-password]\npaths = ["docs/"]\n', set()),
]


@pytest.mark.parametrize("config, hidden", ALLOWLIST_CASES, ids=[f"case-{i}" for i in range(len(ALLOWLIST_CASES))])
def test_each_allowlist_hides_what_it_names_and_nothing_else(tree, config, hidden):
    write_config(tree, ACME_RULE + config)
    _, plain = scan(tree)
    _, shown = scan(tree, "--show-ignored")
    ignored = {p for p in places(shown) if p[2] is not None}
    assert ignored == hidden
    assert places(plain) == {p for p in places(shown) if p[2] is None}  # hidden without --show-ignored
    assert plain["summary"]["findings"] == len(plain["findings"]) == sum(not f["ignored"] for f in shown["findings"])
    for f in shown["findings"]:
        assert f["ignored"] == (f.get("ignore_reason") is not None)


def test_allowlisted_findings_do_not_count_for_the_exit_status(tree):
    write_config(tree, ACME_RULE + '[allowlist]\npaths = ["src/", "docs/"]\n')
    result, report = scan(tree, "--show-ignored")
    assert result.returncode == 0 and report["findings"] and all(f["ignored"] for f in report["findings"])


def test_an_inline_suppression_keeps_its_own_reason(tree):
    (tree / "docs/setup.md").write_text(f"token {DOCS_PAT} radar:ignore\n")
    write_config(tree, '[allowlist]\npaths = ["docs/"]\n')
    _, report = scan(tree, "--show-ignored")
    [docs] = [f for f in report["findings"] if f["path"] == "docs/setup.md"]
    assert docs["ignore_reason"] == "inline radar:ignore"


def test_a_base64_encoded_value_is_allowlisted_by_its_decoded_value(tree):
    import base64

    (tree / "src/blob.txt").write_text(base64.b64encode(f"API_TOKEN={ACME}".encode()).decode() + "\n")
    write_config(tree, ACME_RULE + f'[allowlist]\nregexes = ["^{ACME[:9]}"]\n')
    _, report = scan(tree, "--show-ignored")
    [blob] = [f for f in report["findings"] if f["path"] == "src/blob.txt"]
    assert blob["rule_id"] == "acme-internal-token" and "decoded:base64" in blob["tags"]
    assert blob["ignore_reason"] == "config: allowlist.regexes[0]"


# --- the prefilter cache ------------------------------------------------------------------------


def test_a_changed_configuration_never_meets_a_stale_cached_prefilter(tree, tmp_path):
    cache = tmp_path / "cache"
    (tree / "src/zeta.py").write_text('Z = "zeta_' + expand("{lowernum:24}", "config-zeta") + '"\n')
    write_config(tree, ACME_RULE)
    _, first = scan(tree, cache=cache)
    assert ("acme-internal-token", "src/client.py", None) in places(first)
    databases = set((cache / "radar").glob("keywords-*")) if hyperscan is not None else set()
    # The same rule id, now for another prefix: the keywords and the expression change.
    write_config(tree, ACME_RULE.replace("acme_", "zeta_"))
    _, second = scan(tree, cache=cache)
    found = {(f["rule_id"], f["path"]) for f in second["findings"] if f["rule_id"] == "acme-internal-token"}
    assert found == {("acme-internal-token", "src/zeta.py")}
    # Work done, not time: the second rule set compiled a database of its own beside the first.
    if hyperscan is not None:
        assert databases < set((cache / "radar").glob("keywords-*"))
    # And going back finds the first database and the first answer again.
    write_config(tree, ACME_RULE)
    _, third = scan(tree, cache=cache)
    assert places(third) == places(first)


def test_disabling_a_rule_with_a_warm_cache_never_runs_another_rule_in_its_place(tree, tmp_path):
    cache = tmp_path / "cache"
    _, warm = scan(tree, cache=cache)
    # This rule's only keyword is another rule's too: the keyword set stays the same while every
    # later rule's index shifts, so a plan cached by keywords alone would misname findings.
    write_config(tree, 'disable = ["octopus-deploy-api-key"]\n')
    _, after = scan(tree, cache=cache)
    assert places(after) == places(warm)


# --- history ------------------------------------------------------------------------------------


def _history_repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.commit("docs", **{"docs/setup.md": f"token {DOCS_PAT}\n", "src/a.env": f"GITLAB_TOKEN={GITLAB_PAT}\n"})
    repo.commit("more", **{"docs/old.md": f"token {GITLAB_PAT}\n", "src/client.py": f'API_TOKEN = "{ACME}"\n'})
    return repo


def test_history_reads_the_work_trees_configuration_and_allowlists_by_every_place(tmp_path):
    repo = _history_repo(tmp_path)
    write_config(repo.path, ACME_RULE + '[allowlist]\npaths = ["docs/"]\n')  # not committed: the work tree's
    result, report = scan(repo.path, "--history", "--show-ignored")
    by_rule = {(f["rule_id"], f["path"]): f for f in report["findings"]}
    assert by_rule[("acme-internal-token", "src/client.py")]["ignored"] is False
    # Only ever under docs/: allowlisted. Also committed under src/: reported, with both places.
    docs = by_rule[("gitlab-personal-access-token", "docs/setup.md")]
    assert docs["ignored"] and docs["ignore_reason"] == "config: allowlist.paths[0]"
    both = by_rule[("gitlab-personal-access-token", "src/a.env")]
    assert not both["ignored"] and {loc["path"] for loc in both["locations"]} == {"src/a.env", "docs/old.md"}
    assert report["scan"]["config"]["path"] == f"{repo.path}/.radar.toml"


def test_a_bare_repository_uses_the_configuration_committed_at_its_tip(tmp_path):
    repo = _history_repo(tmp_path)
    repo.commit("config", **{".radar.toml": 'disable = ["gitlab-personal-access-token"]\n' + ACME_RULE})
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    _, report = scan(bare, "--history")
    assert {f["rule_id"] for f in report["findings"]} == {"acme-internal-token"}
    assert report["scan"]["config"]["path"] == "HEAD:.radar.toml"


def test_a_broken_configuration_at_a_bare_repositorys_tip_names_where_it_is(tmp_path):
    repo = _history_repo(tmp_path)
    repo.commit("config", **{".radar.toml": "\ndisable = 3\n"})
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    result = radar("scan", bare, "--history", env=env())
    assert result.returncode == 2
    assert result.stderr == b'radar: error: HEAD:.radar.toml:2: disable: must be a list of rule ids, like ["generic-password"]\n'


# --- GitLab -------------------------------------------------------------------------------------


def test_gitlab_scans_take_a_configuration_on_variables_and_ci_files(gitlab_server: FakeGitLab, tmp_path):
    gl = gitlab_server
    gl.projects = [Project(10, "acme/api", files={".gitlab-ci.yml": f"variables:\n  T: {GITLAB_PAT}\n"}, variables=[
        variable("ACME_TOKEN", ACME, masked=True, protected=True),
        variable("DEPLOY_TOKEN", DOCS_PAT),
        variable("DEV_PASSWORD", LOCALDEV, masked=True, protected=True, environment_scope="dev"),
    ])]
    config = tmp_path / "gitlab.toml"
    config.write_text('disable = ["gitlab-variable-not-hidden"]\n' + ACME_RULE + """\
[allowlist]
paths = ['variables/DEPLOY_TOKEN\\[*\\]', ".gitlab-ci.yml"]
stopwords = ["localdev"]
""")
    args = ("scan", "gitlab", "--url", gl.url, "--project", "acme/api", "--config", config, "--show-ignored",
            "--format", "json", "--jobs", "1")
    result = radar(*args, env=clean_env(RADAR_FINGERPRINT_KEY="test-key", GITLAB_TOKEN=TOKEN))
    assert_no_secret(result)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    validator(SCHEMA_PATH).validate(report)
    found = {(f["rule_id"], f["path"], f.get("ignore_reason")) for f in report["findings"]}
    assert ("acme-internal-token", "variables/ACME_TOKEN[*]", None) in found
    assert ("gitlab-personal-access-token", "variables/DEPLOY_TOKEN[*]", "config: allowlist.paths[0]") in found
    assert ("gitlab-personal-access-token", ".gitlab-ci.yml", "config: allowlist.paths[1]") in found
    # Hygiene findings of the allowlisted variable are allowlisted with it; a disabled check is gone.
    assert ("gitlab-variable-unmasked", "variables/DEPLOY_TOKEN[*]", "config: allowlist.paths[0]") in found
    assert not any(rule == "gitlab-variable-not-hidden" for rule, _, _ in found)
    # A value the stopword allowlists is ignored; the variable still has a secret-like name.
    assert ("generic-password", "variables/DEV_PASSWORD[dev]", "config: allowlist.stopwords[0]") in found
    assert report["summary"]["findings"] == sum(1 for f in report["findings"] if not f["ignored"])


# --- the command line and the README -----------------------------------------------------------


def test_the_cli_prints_a_mistake_as_one_error_line_with_exit_2(tmp_path):
    (tmp_path / ".radar.toml").write_text('[allowlist]\nregexes = ["ok", "(x"]\n')
    result = radar("scan", tmp_path, env=clean_env(RADAR_FINGERPRINT_KEY="k"))
    assert result.returncode == 2
    assert assert_one_line_error(result) == \
        f"radar: error: {tmp_path}/.radar.toml:2: allowlist.regexes[1]: does not compile: missing ) at position 2\n"


def test_a_missing_config_option_file_is_one_error_line(tmp_path):
    result = radar("scan", tmp_path, "--config", tmp_path / "nope.toml", env=clean_env(RADAR_FINGERPRINT_KEY="k"))
    assert result.returncode == 2
    assert assert_one_line_error(result) == \
        f"radar: error: {tmp_path}/nope.toml: cannot read the configuration: no such file or directory\n"


def test_the_readmes_example_configuration_loads_as_documented():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Configuration (`.radar.toml`)", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = load_config(example, ".radar.toml")
    assert [r.id for r in config.added] == ["acme-internal-token"]
    assert config.disabled == {"generic-password", "gitlab-variable-not-hidden"}
    allow = config.allowlists
    assert allow.path_reason("any", "docs/guide.md") == "config: allowlist.paths[0]"
    assert allow.path_reason("any", "docs/production.md") is None
    assert allow.path_reason("any", "a/b/testdata/x.json") == "config: allowlist.paths[1]"
    assert allow.value_reason("any", "sk_test_123") == "config: allowlist.regexes[0]"
    assert allow.path_reason("generic-api-key", "config/local.env") == "config: allowlist.rules.generic-api-key.paths[0]"
    assert allow.path_reason("generic-token", "config/local.env") is None



# --- several paths and staged scans: the current directory's configuration --------------------


def _scan_here(root: Path, *args: str) -> dict:
    command = [*RADAR, "scan", *args, "--format", "json", "--jobs", "1", "--show-ignored"]
    result = subprocess.run(command, cwd=root, capture_output=True, env=env())
    assert_no_secret(result)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_several_paths_use_the_current_directorys_configuration(tree):
    # What a pre-commit hook runs: file names from the top of the work tree.
    write_config(tree, ACME_RULE + '[allowlist]\npaths = ["docs/"]\n')
    report = _scan_here(tree, "docs/setup.md", "src/client.py")
    assert places(report) == {("gitlab-personal-access-token", "docs/setup.md", "config: allowlist.paths[0]"),
                              ("acme-internal-token", "src/client.py", None)}


def test_a_staged_scan_uses_the_work_trees_configuration(tree):
    write_config(tree, ACME_RULE + '[allowlist]\npaths = ["docs/"]\n')
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    subprocess.run(["git", "-C", str(tree), "add", "docs/setup.md", "src/client.py"], check=True)
    report = _scan_here(tree, "--staged")
    assert places(report) == {("gitlab-personal-access-token", "docs/setup.md", "config: allowlist.paths[0]"),
                              ("acme-internal-token", "src/client.py", None)}

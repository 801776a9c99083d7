"""`radar plan --output-dir DIR`: what lands in DIR, what an existing DIR may hold, what apply.sh
runs whatever the scanned names are, and the pages that name DIR's files (or carry them inline);
the HTML plan's contents table; where GitLab's address comes from."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from html_cells import FindingsCells
from radar.plan import render
from radar.plan.artifacts import MANIFEST, OutputDirError, write_dir
from radar.plan.build import PlanError, build_plan
from radar.plan.load import ScanInfo
from radar.plan.mapping import (
    DEFAULT_SETTINGS, Mapping, MappingError, ProjectInfo, checked_gitlab_url, checked_settings,
)
from radar.plan.setup import gitlab_steps
from radar.scan.findings import Finding, Origin
from radar_cli import WAIT, assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="plan-output-dir")
GITLAB = "https://gitlab.example.com"
KNOWN = Mapping(settings=replace(DEFAULT_SETTINGS, gitlab_url=GITLAB)).with_project("g/app", ProjectInfo(project_id=42))
DIRECTORY = ScanInfo("directory", "app", "/src/app")


def finding(path: str, fingerprint: str, **fields) -> Finding:
    base = dict(rule_id="generic-password", secret_type="Password", description="Password", severity="high",
                confidence="high", path=path, line=1, column=1, end_line=1, end_column=9,
                fingerprint=fingerprint, preview="[redacted]", name="DB_PASSWORD")
    base.update(fields)
    return Finding(**base)


@pytest.fixture(scope="module")
def plan():
    return build_plan([finding("config/production.yml", "1" * 64), finding(".env.staging", "2" * 64, name="GH_TOKEN"),
                       finding("deploy/prod/key.pem", "3" * 64, secret_type="Private key", end_line=9, name=None)],
                      DIRECTORY, KNOWN)


def listing(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


# --- the directory ---------------------------------------------------------------------------

def test_the_directory_holds_every_policy_role_the_config_the_ci_snippet_and_apply_sh(plan, tmp_path):
    out = tmp_path / "new" / "plan"
    written = write_dir(plan, str(out))
    names = [t.role_name for t in plan.targets]
    assert listing(out) == {*(f"policies/{n}.hcl" for n in names), *(f"roles/{n}.json" for n in names),
                            "auth-config.json", "gitlab-ci.yml", "apply.sh", ".gitignore", MANIFEST}
    assert (out / MANIFEST).read_text().splitlines() == written
    for t in plan.targets:
        assert (out / f"policies/{t.policy_name}.hcl").read_text() == t.policy_hcl
        assert json.loads((out / f"roles/{t.role_name}.json").read_text()) == t.role
    assert json.loads((out / "auth-config.json").read_text()) == {"jwks_url": f"{GITLAB}/oauth/discovery/keys",
                                                                  "bound_issuer": GITLAB}
    assert list(yaml.safe_load((out / "gitlab-ci.yml").read_text())) == [
        name for t in plan.targets for name in (t.ci_template, f"{t.role_name}-job")]
    assert stat.S_IMODE((out / "apply.sh").stat().st_mode) == 0o755
    assert (out / ".gitignore").read_text().splitlines()[-1] == "/values/"
    assert subprocess.run(["bash", "-n", str(out / "apply.sh")], capture_output=True).returncode == 0


def test_a_directory_radar_did_not_write_is_refused_and_left_alone(plan, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirError, match=r"not empty, and radar did not write it .* give a new or empty directory"):
        write_dir(plan, str(tmp_path))
    assert listing(tmp_path) == {"notes.txt"}


def test_writing_again_replaces_radars_files_removes_stale_ones_and_keeps_the_users(plan, tmp_path):
    write_dir(plan, str(tmp_path))
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "x.secret").write_text("kept")
    (tmp_path / "NOTES.md").write_text("kept")
    (tmp_path / "apply.sh").write_text("# edited\n")
    production_only = replace(plan, targets=plan.targets[:1])
    write_dir(production_only, str(tmp_path))
    assert (tmp_path / "values" / "x.secret").read_text() == "kept" and (tmp_path / "NOTES.md").read_text() == "kept"
    assert (tmp_path / "apply.sh").read_text().startswith("#!/usr/bin/env bash")
    gone = [t.role_name for t in plan.targets[1:]]
    assert gone and not [n for n in gone if (tmp_path / f"roles/{n}.json").exists()
                         or (tmp_path / f"policies/{n}.hcl").exists()]


def test_a_file_radar_would_write_but_did_not_is_refused(plan, tmp_path):
    write_dir(plan, str(tmp_path))
    listed = (tmp_path / MANIFEST).read_text().splitlines()
    (tmp_path / MANIFEST).write_text("".join(f"{p}\n" for p in listed if p != "gitlab-ci.yml"))
    with pytest.raises(OutputDirError, match="gitlab-ci.yml exists and radar did not write it"):
        write_dir(plan, str(tmp_path))


def test_a_link_in_the_directory_cannot_carry_a_write_outside(plan, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    write_dir(plan, str(out))
    elsewhere.mkdir()
    for t in plan.targets:
        (out / f"policies/{t.policy_name}.hcl").unlink()
    (out / "policies").rmdir()
    (out / "policies").symlink_to(elsewhere)
    with pytest.raises(OutputDirError, match="policies is not radar's folder"):
        write_dir(plan, str(out))
    (out / "policies").unlink()
    (out / "policies").mkdir()
    (out / "apply.sh").unlink()
    (out / "apply.sh").symlink_to(elsewhere / "apply.sh")
    with pytest.raises(OutputDirError, match="apply.sh is a link or not a regular file"):
        write_dir(plan, str(out))
    assert not list(elsewhere.iterdir())


def test_a_manifest_naming_files_outside_radars_layout_removes_nothing(plan, tmp_path):
    out = tmp_path / "out"
    write_dir(plan, str(out))
    (tmp_path / "victim.txt").write_text("kept")
    (out / "keep.txt").write_text("kept")
    with open(out / MANIFEST, "a") as f:
        f.write("../victim.txt\nkeep.txt\n/etc/hostname\n")
    write_dir(plan, str(out))
    assert (tmp_path / "victim.txt").read_text() == "kept" and (out / "keep.txt").read_text() == "kept"


def test_the_cli_refuses_a_foreign_directory_in_one_line(tmp_path):
    report = tmp_path / "findings.json"
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "production.yml").write_text('password: "Zq9s3cr3tXk7hJ2mN8pQ4rT6vW1yB5"\n')
    assert radar("scan", repo, "--format", "json", "--output", report, env=ENV).returncode == 1
    result = radar("plan", report, "--project-id", "42", "--output-dir", out, env=ENV)
    message = assert_one_line_error(result)
    assert result.returncode == 2 and f"--output-dir {out}: not empty, and radar did not write it" in message
    assert listing(out) == {"mine.txt"}


# --- apply.sh, whatever the names ------------------------------------------------------------

HOSTILE = ["../../etc", "..", "a/../../b", "x\ny", "it's", 'say "hi"', "$(touch PWNED)", "`touch PWNED`",
           "a; touch PWNED", "'; touch PWNED; '", '"; touch PWNED; "', "-rf", "*", "\\", "prod\n; touch PWNED"]
hostile = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12), st.sampled_from(["jwt", "gitlab/jwt-2", "a.b/"]),
                    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3).map("".join))

# A stand-in for the Vault CLI that records each call's words (NUL-separated, a newline-NUL after
# each call) and answers as a server with nothing set up would, so every branch of apply.sh runs.
FAKE_VAULT = """#!/usr/bin/env bash
printf '%s\\0' "$@" >> "$VAULT_LOG"; printf '\\n\\0' >> "$VAULT_LOG"
case "$1 $2" in
  "read -format=json") echo '"version": "2"'; exit 0 ;;
  "read "*|"kv get"|"audit list") exit 1 ;;
esac
exit 0
"""


def calls(log: Path) -> list[list[str]]:
    words = log.read_bytes().split(b"\0")[:-1]
    out, current = [], []
    for word in words:
        if word == b"\n":
            out.append(current)
            current = []
        else:
            current.append(word.decode())
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(projects=st.lists(hostile, min_size=1, max_size=3), envs=st.lists(hostile, min_size=1, max_size=3),
       names=st.lists(hostile, min_size=1, max_size=3), auth_path=hostile.filter(lambda s: s.strip()))
def test_hostile_names_stay_in_the_directory_and_never_reach_the_shell(tmp_path_factory, projects, envs, names,
                                                                      auth_path):
    items = [finding(f"deploy/{envs[i % len(envs)]}/x.env", f"{i:064x}", name=names[i % len(names)],
                     origin=Origin(project=projects[i % len(projects)], project_id=7,
                                   variable_key=names[i % len(names)], environment_scope=envs[i % len(envs)]))
             for i in range(max(len(projects), len(envs), len(names)))]
    try:
        mapping = Mapping(settings=checked_settings(replace(DEFAULT_SETTINGS, auth_path=auth_path, gitlab_url=GITLAB),
                                                    "test"))
    except MappingError as e:
        assert "auth_path must be a Vault mount path" in str(e)
        auth_path = "gitlab/jwt"
        mapping = Mapping(settings=replace(DEFAULT_SETTINGS, auth_path=auth_path, gitlab_url=GITLAB))
    try:
        plan = build_plan(items, ScanInfo("gitlab", GITLAB, GITLAB), mapping)
    except PlanError:
        return  # production and not sharing one path: refused, tested by name elsewhere
    work = tmp_path_factory.mktemp("hostile")
    out = work / "out"
    written = write_dir(plan, str(out))
    for path in written:
        assert os.path.realpath(out / path).startswith(str(out.resolve()) + os.sep)
    assert set(written) | {MANIFEST} == listing(out)

    values = work / "values"
    values.mkdir()
    for w in plan.writes:
        for f in w.fields:
            (values / w.file(f)).write_text("v")
    fake = work / "fake-vault"
    fake.write_text(FAKE_VAULT)
    fake.chmod(0o755)
    log = work / "log"
    result = subprocess.run(["bash", str(out / "apply.sh")], capture_output=True, timeout=WAIT, cwd=work,
                            env={"PATH": os.environ["PATH"], "VAULT_CLI": str(fake), "VAULT_LOG": str(log),
                                 "RADAR_VALUES_DIR": str(values)})
    assert result.returncode == 0, result.stderr[-600:]
    assert not [p for p in work.rglob("PWNED")] and not Path("PWNED").exists()
    made = calls(log)
    auth = auth_path.strip("/")
    assert ["auth", "enable", f"-path={auth}", "jwt"] in made
    assert ["write", f"auth/{auth}/config", "@auth-config.json"] in made
    for t in plan.targets:
        assert ["policy", "write", t.policy_name, f"policies/{t.policy_name}.hcl"] in made
        assert ["write", f"auth/{auth}/role/{t.role_name}", f"@roles/{t.role_name}.json"] in made
    for w in plan.writes:
        assert ["kv", "put", f"-mount={w.mount}", w.path, *(f"{f}=@{values}/{w.file(f)}" for f in w.fields)] in made


# --- apply.sh refuses what it cannot do ------------------------------------------------------

def test_apply_refuses_a_plan_without_gitlabs_address(tmp_path):
    plan = build_plan([finding("config/production.yml", "1" * 64)], DIRECTORY,
                      Mapping().with_project("g/app", ProjectInfo(project_id=42)))
    write_dir(plan, str(tmp_path / "out"))
    assert json.loads((tmp_path / "out" / "auth-config.json").read_text())["bound_issuer"] == "<GITLAB_URL>"
    result = subprocess.run(["bash", str(tmp_path / "out" / "apply.sh")], capture_output=True, timeout=WAIT,
                            env={"PATH": os.environ["PATH"], "VAULT_CLI": "true"})
    assert result.returncode == 1
    assert result.stderr.decode() == ("apply.sh: auth-config.json still says <GITLAB_URL>: write GitLab's address "
                                      "there (https://gitlab.example.com), or plan again with --gitlab-url URL\n")


# --- the pages name DIR's files, or carry them inline ----------------------------------------

def shell_blocks(markdown: str) -> list[str]:
    """The shell code blocks, each without the indent of its fence (a list item's)."""
    return ["\n".join(line[len(indent):] for line in body.split("\n"))
            for indent, body in re.findall(r"(?ms)^( *)```shell\n(.*?)^\1```$", markdown)]


def test_with_output_dir_every_file_a_command_names_exists_there(plan, tmp_path):
    write_dir(plan, str(tmp_path))
    blocks = shell_blocks(render(plan, "markdown", files=True))
    named = set()
    for block in blocks:
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            named |= {w[1:] for w in words if w.startswith("@") and "." in w}
            if words[:2] == ["vault", "policy"]:
                named.add(words[4])
    assert named == {"auth-config.json", *(f"policies/{t.policy_name}.hcl" for t in plan.targets),
                     *(f"roles/{t.role_name}.json" for t in plan.targets)}
    assert all((tmp_path / name).is_file() for name in named)
    document = json.loads(render(plan, "json", files=True))
    assert document["targets"][0]["commands"][0].endswith(f"policies/{plan.targets[0].policy_name}.hcl")


def test_without_output_dir_the_commands_carry_the_files_inline(plan):
    markdown = render(plan, "markdown")
    text = "\n".join(shell_blocks(markdown))
    assert "@auth-config.json" not in text and "policies/" not in text and "@roles/" not in text
    for t in plan.targets:
        assert f"vault policy write {t.policy_name} - <<'EOF'\n{t.policy_hcl}EOF" in text
        heredoc = re.search(rf"vault write auth/jwt/role/{re.escape(t.role_name)} - <<'EOF'\n(.*?)\nEOF", text, re.S)
        assert json.loads(heredoc.group(1)) == t.role
    config = re.search(r"vault write auth/jwt/config - <<'EOF'\n(.*?)\nEOF", text, re.S)
    assert json.loads(config.group(1))["bound_issuer"] == GITLAB
    html = render(plan, "html")
    assert "policies/" not in html and "vault write auth/jwt/config - &lt;&lt;&#x27;EOF&#x27;" in html


def test_every_format_opens_with_the_vault_setup_then_the_gitlab_setup(plan):
    markdown = render(plan, "markdown")
    assert re.findall(r"^## (.+)$", markdown, re.M)[:2] == ["Vault setup", "GitLab setup"]
    assert "vault read sys/auth/jwt >/dev/null 2>&1 || vault auth enable -path=jwt jwt" in markdown
    document = json.loads(render(plan, "json"))
    assert list(document)[:3] == ["plan", "vault_setup", "gitlab_setup"]
    assert [s["title"] for s in document["vault_setup"]] == [
        "Enable JWT auth", "Configure it for GitLab", "Enable the KV v2 mount secret", "Enable an audit device"]
    html = render(plan, "html")
    assert html.index('id="vault-setup"') < html.index('id="gitlab-setup"') < html.index('id="values"')


def test_the_gitlab_setup_protects_what_the_production_role_binds(plan):
    protect = gitlab_steps(plan)
    production = next(t for t in plan.targets if t.production)
    environments = [p for p in protect if p.kind == "environment"]
    assert [(p.owner, p.name, p.roles) for p in environments] == [("g/app", "production", (production.role_name,))]
    argv = shlex.split(environments[0].api)
    assert argv[-1] == f"{GITLAB}/api/v4/projects/42/protected_environments"
    assert json.loads(argv[argv.index("--data") + 1]) == {"name": "production",
                                                          "deploy_access_levels": [{"access_level": 40}]}
    assert "PRIVATE-TOKEN: $GITLAB_TOKEN" in argv
    # Production binds its deploying branch by name; the other roles bind protected refs, whichever they are.
    staging = next(t for t in plan.targets if t.environment == "staging")
    refs = [p for p in protect if p.kind != "environment"]
    assert [(p.kind, p.name, p.roles) for p in refs] == [("branch", "main", (production.role_name,)),
                                                       ("ref", "<BRANCH>", (staging.role_name,))]
    assert all("Settings > Repository > Protected branches" in p.ui for p in refs)


# --- the HTML contents table -----------------------------------------------------------------

def test_the_html_contents_table_lists_every_role_with_links_to_its_sections(plan):
    page = FindingsCells("contents")
    page.feed(render(plan, "html"))
    rows = [r for r in page.rows if r]
    assert rows == [[t.role_name, t.project, t.environment, t.policy_name, "".join(u.entry.short_form for u in t.uses)]
                    for t in plan.targets]
    links = [r for r in page.links if r]
    assert links == [[f"#{t.role_name}", f"#{t.role_name}-policy"] for t in plan.targets]
    assert {href[1:] for row in links for href in row} <= page.ids


# --- GitLab's address ------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://gitlab.example.com/", "https://gitlab.example.com"),
    ("https://gitlab.example.com:8443/gitlab", "https://gitlab.example.com:8443/gitlab"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
])
def test_gitlab_urls_keep_their_scheme_and_lose_a_trailing_slash(url, expected):
    assert checked_gitlab_url(url, "x") == expected


@pytest.mark.parametrize("url", ["gitlab.example.com", "ftp://gitlab.example.com", "https://", "https://a b",
                                 "https://gitlab.example.com/\"x", "https://user:pw@gitlab.example.com",
                                 "https://gitlab.example.com:99999", "https://x\n"])
def test_a_bad_gitlab_url_is_refused(url):
    with pytest.raises(MappingError, match="gitlab_url must be GitLab's address, like https://gitlab.example.com"):
        checked_gitlab_url(url, "x")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gitlab-url")
    (root / "repo" / "config").mkdir(parents=True)
    (root / "repo" / "config" / "production.yml").write_text('password: "Zq9s3cr3tXk7hJ2mN8pQ4rT6vW1yB5"\n')
    path = root / "findings.json"
    assert radar("scan", root / "repo", "--format", "json", "--output", path, env=ENV).returncode == 1
    return path


def issuer(report: Path, tmp_path: Path, *args: str) -> str:
    result = radar("plan", report, "--project-id", "42", "--format", "json", *args, env=ENV)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["plan"]["gitlab_url"]


def test_the_gitlab_url_comes_from_a_gitlab_scan_unless_given(report, tmp_path):
    document = json.loads(report.read_text())
    document["scan"].update(kind="gitlab", target="https://gitlab.acme.test/", root="https://gitlab.acme.test")
    for finding_ in document["findings"]:
        finding_.update(project="acme/app", project_id=42)
    gitlab_report = tmp_path / "gitlab.json"
    gitlab_report.write_text(json.dumps(document))
    assert issuer(gitlab_report, tmp_path) == "https://gitlab.acme.test"
    assert issuer(gitlab_report, tmp_path, "--gitlab-url", "https://gitlab.public.test/") == "https://gitlab.public.test"
    assert issuer(report, tmp_path) is None
    mapping = tmp_path / "m.toml"
    mapping.write_text('[vault]\ngitlab_url = "https://gitlab.mapped.test"\n')
    assert issuer(report, tmp_path, "--mapping", str(mapping)) == "https://gitlab.mapped.test"


def test_a_bad_gitlab_url_on_the_command_line_is_one_line(report):
    result = radar("plan", report, "--gitlab-url", "gitlab.example.com", env=ENV)
    assert result.returncode == 2
    assert "gitlab_url must be GitLab's address, like https://gitlab.example.com" in assert_one_line_error(result)


def test_a_relative_values_dir_is_relative_to_where_apply_sh_was_started(plan, tmp_path):
    out = tmp_path / "out"
    write_dir(plan, str(out))
    (tmp_path / "mine").mkdir()
    for w in plan.writes:
        for f in w.fields:
            (tmp_path / "mine" / w.file(f)).write_text("v")
    fake, log = tmp_path / "fake-vault", tmp_path / "log"
    fake.write_text(FAKE_VAULT)
    fake.chmod(0o755)
    result = subprocess.run(["bash", "out/apply.sh"], capture_output=True, timeout=WAIT, cwd=tmp_path,
                            env={"PATH": os.environ["PATH"], "VAULT_CLI": str(fake), "VAULT_LOG": str(log),
                                 "RADAR_VALUES_DIR": "mine"})
    assert result.returncode == 0, result.stderr[-600:]
    puts = [c for c in calls(log) if c[:2] == ["kv", "put"]]
    w = plan.writes[0]
    assert puts[0][4:] == [f"{f}=@{tmp_path}/mine/{w.file(f)}" for f in w.fields]


def test_the_directory_may_be_a_link_the_user_chose(plan, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    write_dir(plan, str(tmp_path / "link"))
    assert "apply.sh" in listing(tmp_path / "real")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.builds("{}{}".format, st.sampled_from(["http://", "https://", ""]),
                                                 st.text(max_size=40))))
def test_a_gitlab_url_is_refused_or_comes_out_plain_and_stable(text):
    try:
        url = checked_gitlab_url(text, "x")
    except MappingError:
        return
    assert re.fullmatch(r"https?://[A-Za-z0-9._~:/\[\]%-]+", url) and not url.endswith("/")
    assert checked_gitlab_url(url, "x") == url


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.text(max_size=30), st.sampled_from(
    ["../outside.txt", "/etc/hostname", "policies/../../outside.txt", "roles/x.json", "values/a.secret", "apply.sh"])),
    max_size=8))
def test_whatever_the_file_list_says_nothing_outside_radars_layout_is_removed(plan, tmp_path_factory, lines):
    work = tmp_path_factory.mktemp("manifest")
    out = work / "out"
    write_dir(plan, str(out))
    (work / "outside.txt").write_text("kept")
    (out / "values").mkdir()
    (out / "values" / "a.secret").write_text("kept")
    listed = (out / MANIFEST).read_text().splitlines()
    (out / MANIFEST).write_text("\n".join(listed + lines), encoding="utf-8", errors="surrogateescape")
    write_dir(plan, str(out))
    assert (work / "outside.txt").read_text() == "kept" and (out / "values" / "a.secret").read_text() == "kept"
    assert (out / "apply.sh").is_file()

"""The plan's renderings: their structure (Markdown, HTML via html.parser, JSON), that the HTML page
is self-contained, that scanned text cannot inject markup, and that no format ever contains a
secret value, raw or encoded, even for values found only in git history."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from radar.plan import render
from radar.plan.build import build_plan
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping, ProjectInfo
from radar.scan.findings import Finding
from radar_cli import clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="plan-render")
KNOWN = Mapping().with_project("g/app", ProjectInfo(project_id=42))


def finding(path: str, fingerprint: str, **fields) -> Finding:
    base = dict(rule_id="generic-password", secret_type="Password", description="Password", severity="high",
                confidence="high", path=path, line=1, column=1, end_line=1, end_column=9,
                fingerprint=fingerprint, preview="[redacted]", name="DB_PASSWORD")
    base.update(fields)
    return Finding(**base)


@pytest.fixture(scope="module")
def plan():
    findings = [
        finding("config/production.yml", "1" * 64),
        finding(".env.staging", "2" * 64, rule_id="github-pat", secret_type="GitHub token", severity="critical",
                name="GH_TOKEN", tags=("validated",)),
        finding("deploy/prod/key.pem", "3" * 64, rule_id="pem-private-key", secret_type="Private key",
                severity="critical", end_line=20, name=None),
        finding(".gitlab-ci.yml", "4" * 64, rule_id="gitlab-ci-job-jwt", secret_type="gitlab-ci-config",
                severity="medium", remediation="use id_tokens:", name=None),
        finding("tests/fixtures/x.py", "5" * 64, confidence="low", tags=("test-fixture",)),
    ]
    return build_plan(findings, ScanInfo("directory", "app", "/src/app"), KNOWN)


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside each element of interest."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {}
        self.doctype = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag not in ("br", "meta", "rect", "img", "input", "link"):
            self.open.append((tag, attributes))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for tag, attributes in self.open:
            if tag == "pre" and attributes.get("class"):
                self.texts.setdefault(attributes["class"], []).append(data)

    def all(self, tag: str, css: str | None = None) -> list[dict]:
        return [a for t, a in self.tags if t == tag and (css is None or css in (a.get("class") or "").split())]


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


# --- HTML ------------------------------------------------------------------------------------

def test_the_html_page_is_self_contained(plan):
    html = render(plan, "html")
    page = parsed(html)
    assert page.doctype == "DOCTYPE html"
    assert not page.all("script") and not page.all("link") and not page.all("iframe") and not page.all("img")
    # Links stay on the page: the contents table's anchors to each role's section, nothing else.
    assert not [a for _, a in page.tags if "src" in a or ("href" in a and not a["href"].startswith("#"))]
    assert [a["href"] for _, a in page.tags if "href" in a]
    assert not re.search(r"\son[a-z]+\s*=", html)  # no event handlers
    csp = [a for a in page.all("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]


def test_the_html_code_blocks_keep_their_lines(plan):
    # Inline <code> does not wrap; a policy or YAML block inside <pre><code> must still show its
    # lines (a headless-Chromium screenshot once showed each block run together on one line).
    html = render(plan, "html")
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert re.search(r"(?m)^pre code\s*\{[^}]*white-space:\s*inherit", style)
    policy = parsed(html).texts["policy"][0]
    assert policy.count("\n") >= 3 and 'capabilities = ["read"]' in policy


def test_the_html_page_charts_the_plan_by_type_and_severity(plan):
    page = parsed(render(plan, "html"))
    segments = {(a["data-category"], a["data-severity"]) for a in page.all("rect", "segment")}
    assert segments == {("Password", "high"), ("GitHub token", "critical"), ("Private key", "critical"),
                        ("gitlab-ci-job-jwt", "medium")}


def test_the_html_page_has_a_row_per_value_a_section_per_target_and_the_files_to_apply(plan):
    html = render(plan, "html")
    page = parsed(html)
    entries_table = html.split('<table class="entries">', 1)[1].split("</table>", 1)[0]
    assert entries_table.count("<tr>") - 1 == len(plan.entries)  # less the header row
    assert len(page.all("section", "target")) == len(plan.targets)
    assert len(page.all("section", "entry")) == len(plan.entries)
    assert len(page.texts["policy"]) == len(plan.targets)
    roles = ["".join(page.texts["role"][i:i + 1]) for i in range(len(plan.targets))]
    assert [json.loads(r) for r in roles] == [t.role for t in plan.targets]
    for text, target in zip(page.texts["ci"], plan.targets):
        assert yaml.safe_load(text) == yaml.safe_load(target.ci_yaml)


def test_scanned_text_cannot_inject_markup_into_the_page():
    evil = finding('x/<script>alert(1)</script>/"><img src=x>.env', "6" * 64, name="<b>PASS</b>")
    html = render(build_plan([evil], ScanInfo("directory", "app", "/src/app"), KNOWN), "html")
    page = parsed(html)
    assert not page.all("script") and not page.all("img") and not page.all("b")
    assert "&lt;script&gt;" in html


# --- Markdown --------------------------------------------------------------------------------

def code_blocks(markdown: str) -> list[tuple[str, str]]:
    return [(m.group(2), m.group(3)) for m in
            re.finditer(r"^ *(`{3,})(\w*)\n(.*?)\n *\1$", markdown, re.MULTILINE | re.DOTALL)]


def test_the_markdown_has_the_sections_and_every_file_parses(plan):
    markdown = render(plan, "markdown")
    headings = re.findall(r"^## (.+)$", markdown, re.MULTILINE)
    assert headings[:6] == ["Vault setup", "GitLab setup", "Warnings", "Values to move", "Order of work",
                            "g/app: production"]
    assert {"Every value, step by step", "Configuration fixes", "Skipped"} <= set(headings)
    blocks = code_blocks(markdown)
    assert [yaml.safe_load(b) for lang, b in blocks if lang == "yaml"] == [yaml.safe_load(t.ci_yaml) for t in plan.targets]
    assert [json.loads(b) for lang, b in blocks if lang == "json"] == [t.role for t in plan.targets]
    assert [b for lang, b in blocks if lang == "hcl"] == [t.policy_hcl.rstrip("\n") for t in plan.targets]
    table = [line for line in markdown.splitlines() if line.startswith("| `")]
    assert len(table) == len(plan.entries)


def test_the_markdown_escapes_scanned_text():
    evil = finding("a|b/<img src=x>`x`.env", "6" * 64)
    markdown = render(build_plan([evil], ScanInfo("directory", "app", "/src/app"), KNOWN), "markdown")
    row = next(line for line in markdown.splitlines() if line.startswith("| `"))
    assert row.count(" | ") == 5  # the | in the path did not add a column
    assert not re.search(r"(?<!\\)<img", markdown)  # `\<` is a literal `<` in Markdown, never a tag


def test_the_markdown_lists_rotation_first_in_the_order_of_work(plan):
    markdown = render(plan, "markdown")
    order = markdown.split("## Order of work", 1)[1]
    assert order.index("**Rotate first**") < order.index("**Store**") < order.index("**Grant**") \
        < order.index("**Switch CI**") < order.index("**Remove**")
    assert "ci/g/app/staging/gh_token@secret" in order.split("**Store**")[0]


# --- JSON ------------------------------------------------------------------------------------

def test_the_json_is_complete_for_tools(plan):
    document = json.loads(render(plan, "json"))
    assert document["plan"]["complete"] is True
    assert [e["vault"] for e in document["entries"]] == [e.short_form for e in plan.entries]
    assert [s["kind"] for s in document["entries"][0]["steps"]][:2] in (["store", "grant"], ["rotate", "store"])
    assert document["skipped"][0]["reason"] == "low confidence: in a test fixture"
    assert document["fixes"][0]["rule_id"] == "gitlab-ci-job-jwt"
    assert all(t["commands"][0].startswith("vault policy write ") for t in document["targets"])


# --- never a value ---------------------------------------------------------------------------

def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env=clean_env(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
                                 GIT_COMMITTER_EMAIL="t@example.com", HOME=str(root)))


def forms(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), base64.b64encode(raw).rstrip(b"="),
            raw.hex().encode()]


def test_no_format_ever_contains_a_planted_value_or_its_encodings(tmp_path):
    values = {
        "password": "Vq3#xL9pK2mW7zR4tY8nQ1",
        "aws": "kW8xQ2mZ9vL3pN7rT4yH6jB1cF5gD0sA8eU2iO3K",
        "history": "Hq7#zP4vN9mX2kL8rT5wY3",
        "encoded": "Zt6#qM3xV8nB1kP9wR4yL7",
    }
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "config" / "old.env").write_text(f"DB_PASSWORD={values['history']}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "old")
    (repo / "config" / "old.env").unlink()
    (repo / "config" / "production.yml").write_text(
        f"db_password: \"{values['password']}\"\naws_secret_access_key: \"{values['aws']}\"\n"
        f"api_password_b64: \"{base64.b64encode(('PASSWORD=' + values['encoded']).encode()).decode()}\"\n")
    (repo / ".env.staging").write_text(f"DB_PASSWORD={values['password']}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "new")
    outputs: list[bytes] = []
    for scan_args in (["scan", str(repo)], ["scan", str(repo), "--history"]):
        findings = tmp_path / "findings.json"
        result = radar(*scan_args, "--format", "json", "--output", findings, "--plan", tmp_path / "direct.md",
                       "--project", "g/app", "--project-id", "42", env=ENV)
        assert result.returncode == 1, result.stderr
        outputs += [result.stdout, result.stderr, (tmp_path / "direct.md").read_bytes()]
        assert json.loads(findings.read_text())["findings"]
        for format in ("markdown", "html", "json"):
            planned = radar("plan", findings, "--format", format, "--project", "g/app", "--project-id", "42", env=ENV)
            assert planned.returncode == 0, planned.stderr
            outputs += [planned.stdout, planned.stderr]
    history_plan = json.loads(planned.stdout)
    assert any(e["rotate_first"] for e in history_plan["entries"])
    assert len(history_plan["entries"]) >= 3
    leaked = [name for name, value in values.items() for form in forms(value) for out in outputs if form in out]
    assert leaked == []

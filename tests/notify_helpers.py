"""What the notification tests share: planted credentials in a real tree, scanned for real, and
the check that no planted value (or a long piece of one) reached anything radar sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey, Finding
from radar.scan.scanner import ScanOptions, scan_directory

KEY = FingerprintKey(b"a-fingerprint-key-for-the-notification-tests")
GITLAB = "glpat-" + expand("{b64url:20}", "notify-gitlab")
GITHUB = "ghp_" + expand("{ghcrc:30}", "notify-github")
PLANTED = (GITLAB, GITHUB)


def assert_no_value(text: str | bytes, where: str) -> None:
    """Fails naming the planted value's index, never the value (pytest would print an `assert x not in y`)."""
    data = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    for n, value in enumerate(PLANTED):
        for piece in (value, value[4:16], value[-12:]):
            if piece in data:
                pytest.fail(f"planted value #{n} (or a 12-character piece of it) appeared in {where}", pytrace=False)


def planted_findings(root: Path, name: str = ".env") -> list[Finding]:
    """The findings of a real scan of a tree holding both planted values in app/<name>."""
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / name).write_text(f"GITLAB_TOKEN={GITLAB}\nGITHUB_TOKEN={GITHUB}\n")
    findings = [f for f in scan_directory(root, ScanOptions(jobs=1), KEY).findings if not f.ignored]
    assert len(findings) == 2, [f.rule_id for f in findings]
    return sorted(findings, key=lambda f: f.line)

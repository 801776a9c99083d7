"""Checks of a GitLab CI file's settings: the deprecated `CI_JOB_JWT` and `VAULT_SKIP_VERIFY` set true.

They run wherever a CI file is scanned: `radar scan gitlab` (on each project's CI file), and every
directory, `--staged` and `--history` scan, on the units `is_ci_file` recognises, in the same
pass as the detectors (no second read). `radar audit ci` applies the same patterns.

What counts as a CI file, by its path (conservative: names GitLab reads or includes by habit):
`.gitlab-ci.yml` at any depth, a file named `*.gitlab-ci.yml`, and any `.yml`/`.yaml` file under
a `.gitlab/ci/` directory. Other YAML files are not checked (standard input has no path: not
checked either).
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import Iterable, Iterator

from radar.scan import compiled
from radar.scan.findings import Finding, FingerprintKey, Origin, preview

JOB_JWT = compiled.pattern(r"(?<![A-Za-z0-9_])CI_JOB_JWT(?:_V[12])?(?![A-Za-z0-9_])")
SKIP_VERIFY = compiled.pattern(r"""(?i)VAULT_SKIP_VERIFY["']?[ \t]*[:=][ \t]*["']?(?:true|1|yes|on)(?![A-Za-z0-9_])""")

# What a CI file is checked for: pattern, rule id, description, severity, fix.
CI_CHECKS = (
    (JOB_JWT, "gitlab-ci-job-jwt", "uses the deprecated CI_JOB_JWT (removed in GitLab 17.0)", "medium",
     "use id_tokens: with an aud: for Vault, and secrets: with token: $VAULT_ID_TOKEN"),
    (SKIP_VERIFY, "gitlab-ci-vault-skip-verify", "sets VAULT_SKIP_VERIFY: TLS to Vault is not verified",
     "high", "remove VAULT_SKIP_VERIFY and give Vault's CA certificate in VAULT_CACERT"),
)
CI_CHECK_IDS = tuple(check[1] for check in CI_CHECKS)


def is_ci_file(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    if name == ".gitlab-ci.yml" or name.endswith(".gitlab-ci.yml"):
        return True
    if not name.endswith((".yml", ".yaml")):
        return False
    return any(a == ".gitlab" and b == "ci" for a, b in zip(parts[:-2], parts[1:-1]))


def ci_file_findings(text: str, path: str, origin: Origin, key: FingerprintKey,
                     disabled: Iterable[str] = ()) -> list[Finding]:
    """The checks' findings in `text`; commented lines are skipped. Cost: one pass of each
    (linear) pattern over the text."""
    off = frozenset(disabled)
    checks = [check for check in CI_CHECKS if check[1] not in off]
    return list(_findings(text, path, origin, key, checks)) if checks else []


def _findings(text: str, path: str, origin: Origin, key: FingerprintKey, checks: list) -> Iterator[Finding]:
    # One pass of each pattern over the whole text; lines are counted only when something matched
    # (most CI files hold no match). No pattern can match a line break, so a match lies on one
    # line, numbered as `str.splitlines` numbers them.
    hits = [(m, index) for index, check in enumerate(checks) for m in check[0].finditer(text)]
    if not hits:
        return
    starts = list(accumulate((len(line) for line in text.splitlines(keepends=True)), initial=0))
    placed = sorted(((bisect_right(starts, m.start()), index, m) for m, index in hits),
                    key=lambda item: (item[0], item[1], item[2].start()))
    for number, index, m in placed:
        line = text[starts[number - 1]:starts[number]]
        if line.lstrip().startswith("#"):
            continue
        _, rule_id, description, severity, fix = checks[index]
        column = m.start() - starts[number - 1] + 1
        yield Finding(
            rule_id=rule_id, secret_type="gitlab-ci-config", description=description,
            severity=severity, confidence="high", path=path, line=number, column=column,
            end_line=number, end_column=column + len(m.group(0)) - 1, fingerprint=key.fingerprint(m.group(0)),
            preview=preview(m.group(0)), origin=origin, remediation=fix,
        )

"""`radar audit ci`: rules over a project's GitLab CI configuration that find jobs leaking the
secrets they receive, or receiving secrets they should not.

A job "receives secrets" when, with `extends:`, `!reference` and local includes resolved
(`radar.audit.ci_files`), it has a `secrets:` mapping; the names in it are the job's secret
variables (`file: false`) or files (the default). The rules, each documented in the README
with its id:

- secrets without an ID token to log in with, or naming one the job lacks or that has no `aud`;
- the deprecated `CI_JOB_JWT` and `VAULT_SKIP_VERIFY` (the patterns `radar scan gitlab` uses);
- TLS to Vault left unverified by `curl -k`, `wget --no-check-certificate`, `-tls-skip-verify`;
- a GitLab token header that `curl --location` sends on to wherever a redirect leads;
- in jobs that receive secrets: a secret echoed, `env`/`printenv`, `set -x` (`radar.audit.ci_shell`);
- a key or certificate handed over as a variable (`file: false`) instead of a file;
- a production job (its environment, or a secret read from a production path) that any branch
  can run, and a job that schedules, triggers, other pipelines or the web form may start.

The rules err towards silence, since an audit that cries wolf is switched off: what they cannot
decide (a `rules:` expression with parentheses that mentions protection, a regex branch under
`only:`) counts as safe. `except:`, `include:`s outside the repository, and what scripts run
from other files are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from radar.audit.ci_files import CIConfig, load_config, normal
from radar.audit.ci_shell import (dumps_environment, printed_secrets, token_sent_on_redirect, traces_commands,
                                  unverified_vault_tls)
from radar.audit.issue import AuditIssue
from radar.plan.environment import from_path
from radar.plan.model import is_production
from radar.scan.ci_checks import CI_CHECKS
from radar.vault.ciyaml import default_id_tokens, inherited_scripts, runnable_jobs

KIND = "gitlab-ci-config"
DOCS = "https://docs.gitlab.com/ci/secrets/"  # GitLab's page on secrets: in jobs, which every rule follows


@dataclass(frozen=True)
class CIRule:
    severity: str
    risk: str  # one sentence, the same for every finding of the rule (reports group by it)
    fix: str


_SHARED = {rule_id: CIRule(severity, f"CI file {description}", fix)
           for _, rule_id, description, severity, fix in CI_CHECKS}
NO_ID_TOKEN = "ci-secrets-without-id-token"
TLS_UNVERIFIED = "ci-vault-tls-unverified"
TOKEN_REDIRECTED = "ci-token-header-redirected"
ECHOED = "ci-secret-echoed"
ENVIRONMENT_DUMPED = "ci-environment-dumped"
TRACED = "ci-shell-trace"
KEY_NOT_FILE = "ci-key-not-file"
UNPROTECTED = "ci-secrets-unprotected-ref"
UNTRUSTED_SOURCE = "ci-secrets-untrusted-source"

RULES: dict[str, CIRule] = {
    NO_ID_TOKEN: CIRule(
        "high", "Job reads secrets: without an ID token of its own that has an aud: (no id_tokens:, or token: names "
                "one the job does not define or that has no aud:): the login fails, or works only against a role that "
                "checks no audience, where a token minted for another service logs in too",
        "Define id_tokens: with an aud: that the Vault role binds (bound_audiences), and name it in each "
        "secret's token: $NAME"),
    TLS_UNVERIFIED: CIRule(
        "high", "Job talks to Vault without verifying its certificate (curl -k, wget --no-check-certificate, "
                "-tls-skip-verify): anyone on the path can read the token and the secrets",
        "Remove the flag and trust Vault's CA instead (curl --cacert, VAULT_CACERT)"),
    TOKEN_REDIRECTED: CIRule(
        "medium", "Job sends a GitLab token header (PRIVATE-TOKEN, JOB-TOKEN) with curl --location: curl sends "
                  "it on to whatever host a redirect names (GitLab redirects artifact downloads to object "
                  "storage), so the token leaves GitLab",
        "Drop --location; read the redirect with --write-out '%{redirect_url}' and fetch it in a second curl "
        "without the header"),
    ECHOED: CIRule(
        "high", "Job prints a secret it received (echo or printf of the variable, cat of the file) to the job "
                "log, which every project member with access to jobs can read",
        "Do not print secrets; pipe them to the command that needs them (--password-stdin) or pass the file"),
    ENVIRONMENT_DUMPED: CIRule(
        "high", "Job that receives secrets as variables (file: false) prints its environment (env, printenv, "
                "export -p), secrets included, to the job log",
        "Remove the command, or print only the variables you need by name"),
    TRACED: CIRule(
        "medium", "Job that receives secrets traces its commands (set -x, bash -x): each command is logged with "
                  "its variables expanded, so a secret passed on a command line reaches the job log",
        "Remove set -x, or turn it off (set +x) around commands that use secrets"),
    KEY_NOT_FILE: CIRule(
        "medium", "A key or certificate is handed to the job as a variable (file: false): it lands in the "
                  "environment of every process, is easy to print, and loses its line breaks in some tools",
        "Use file: true (the default): the variable then holds the path of a file only the job reads"),
    UNPROTECTED: CIRule(
        "high", "Production job that receives secrets runs on any branch: whoever can push a branch can change "
                "its script and read the secrets, unless the Vault role binds ref_protected",
        "Restrict it with rules: if: $CI_COMMIT_REF_PROTECTED == \"true\" (or the default branch or tags), "
        "and bind ref_protected in the Vault role too"),
    UNTRUSTED_SOURCE: CIRule(
        "medium", "Job that receives secrets may run in schedule, trigger, pipeline or web pipelines, which run "
                  "with the rights of whoever set them up rather than a reviewed push",
        "Allow only the pipeline sources the job needs (usually push), and bind pipeline_source in the Vault role"),
    **_SHARED,
}


@dataclass(frozen=True)
class CIAudit:
    issues: tuple[AuditIssue, ...]
    warnings: tuple[str, ...]
    files: int
    jobs: int


def audit_ci(target: str) -> CIAudit:
    """Every rule over the CI configuration at `target` (a CI file, or a directory holding
    `.gitlab-ci.yml`); raises CIYamlError for a configuration that cannot be read."""
    config = load_config(target)
    issues: dict[tuple[str, str], AuditIssue] = {}  # one per rule and subject: the first place it is seen

    def add(issue: AuditIssue) -> None:
        issues.setdefault((issue.rule_id, issue.subject), issue)

    for issue in _line_issues(config):
        add(issue)
    jobs = 0
    for name, job in runnable_jobs(config.doc, config.main):
        jobs += 1
        for issue in _job_issues(config, name, job):
            add(issue)
    ordered = sorted(issues.values(), key=lambda i: (i.path, i.line, i.rule_id, i.subject))
    return CIAudit(tuple(ordered), config.warnings, len(config.lines.files()), jobs)


def _issue(rule_id: str, subject: str, place: tuple[str, int]) -> AuditIssue:
    rule = RULES[rule_id]
    return AuditIssue(rule_id=rule_id, kind=KIND, severity=rule.severity, path=place[0], subject=subject,
                      risk=rule.risk, fix=rule.fix, line=place[1])


_SCRIPT_KEY = re.compile(r"^(?:before_|after_)?script:\s*")  # a one-command script on its keyword's line


def _line_issues(config: CIConfig) -> Iterator[AuditIssue]:
    """Rules that read the files' lines, in any job or template: what they find is wrong wherever it is."""
    for path, lines in config.lines.files():
        for number, line in enumerate(lines, 1):
            if line.lstrip().startswith("#"):
                continue
            owner = config.lines.key_at(path, number) or "(top level)"
            for pattern, rule_id, *_ in CI_CHECKS:
                if pattern.search(line):
                    yield _issue(rule_id, owner, (path, number))
            command = _SCRIPT_KEY.sub("", normal(line))
            if unverified_vault_tls(command):
                yield _issue(TLS_UNVERIFIED, owner, (path, number))
            if token_sent_on_redirect(command):
                yield _issue(TOKEN_REDIRECTED, owner, (path, number))


def _job_issues(config: CIConfig, name: str, job: dict[str, Any]) -> Iterator[AuditIssue]:
    secrets = job.get("secrets")
    if not isinstance(secrets, dict) or not secrets:
        return
    entries = {str(k): v for k, v in secrets.items() if isinstance(v, dict)}
    place = config.lines.place(name)
    yield from _token_issues(config, name, job, entries, place)
    for secret, entry in entries.items():
        if entry.get("file") is False and _is_key_or_certificate(secret, entry):
            yield _issue(KEY_NOT_FILE, f"{name}: {secret}", config.lines.find(f"{secret}:", name))
    yield from _script_issues(config, name, job, entries)
    if _is_production(job, entries) and not _restricted(job, config.doc):
        yield _issue(UNPROTECTED, name, place)
    if _allows_untrusted_source(job):
        yield _issue(UNTRUSTED_SOURCE, name, place)


def _token_issues(config: CIConfig, name: str, job: dict[str, Any], entries: dict[str, dict],
                  place: tuple[str, int]) -> Iterator[AuditIssue]:
    tokens = job.get("id_tokens") if "id_tokens" in job else default_id_tokens(config.doc, job)
    if not isinstance(tokens, dict) or not tokens:
        yield _issue(NO_ID_TOKEN, name, place)
        return
    for secret, entry in entries.items():
        token = entry.get("token")
        if token is None:
            continue
        wanted = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", str(token).strip())
        defined = tokens.get(wanted.group(1)) if wanted else None
        if not isinstance(defined, dict) or not defined.get("aud"):
            yield _issue(NO_ID_TOKEN, f"{name}: {secret}", config.lines.find(f"token: {token}", name))


# Name parts of keys and certificates; a bare KEY is left out: API_KEY, ACCESS_KEY are tokens.
_KEY_WORDS = frozenset({"PRIVATE", "PEM", "CERT", "CERTIFICATE", "CRT", "TLS", "SSL", "SSH", "KUBECONFIG",
                        "KEYSTORE", "KEYFILE", "P12", "PFX", "GPG", "PGP", "JKS"})


def _is_key_or_certificate(secret: str, entry: dict) -> bool:
    vault = entry.get("vault")
    field = vault.get("field") if isinstance(vault, dict) else str(vault or "").split("@")[0].rsplit("/", 1)[-1]
    words = set(re.split(r"[^A-Za-z0-9]+", f"{secret} {field or ''}".upper()))
    return bool(words & _KEY_WORDS)


def _script_lines(job: dict[str, Any], doc: dict[str, Any]) -> Iterator[str]:
    for script in inherited_scripts(doc, job).values():
        items = script if isinstance(script, list) else [script]
        for item in items:
            for command in item if isinstance(item, list) else [item]:  # GitLab allows one level of nesting
                if isinstance(command, str):
                    yield from command.splitlines()


def _script_issues(config: CIConfig, name: str, job: dict[str, Any], entries: dict[str, dict]) -> Iterator[AuditIssue]:
    files = frozenset(s for s, e in entries.items() if e.get("file") is not False)
    variables = frozenset(entries) - files
    for line in _script_lines(job, config.doc):
        for secret in printed_secrets(line, variables, files):
            yield _issue(ECHOED, f"{name}: {secret}", config.lines.find(line, name))
        if variables and dumps_environment(line, variables):  # file secrets are paths in the environment
            yield _issue(ENVIRONMENT_DUMPED, name, config.lines.find(line, name))
        if traces_commands(line):
            yield _issue(TRACED, name, config.lines.find(line, name))


def _is_production(job: dict[str, Any], entries: dict[str, dict]) -> bool:
    environment = job.get("environment")
    tier = None
    if isinstance(environment, dict):
        tier = environment.get("deployment_tier")
        environment = environment.get("name")
    if tier == "production" or (isinstance(environment, str) and (
            is_production(environment) or from_path(environment) == "production")):
        return True
    for entry in entries.values():
        vault = entry.get("vault")
        path = vault.get("path") if isinstance(vault, dict) else vault
        if isinstance(path, str) and from_path(path.split("@")[0]) == "production":
            return True
    return False


# Conditions that keep a rule to protected refs, the default branch, a named branch or tags.
_PROTECTS = re.compile(
    r"""\$\{?CI_COMMIT_REF_PROTECTED\}?\s*==\s*["']?true["']?"""
    r"""|\$\{?CI_COMMIT_(?:BRANCH|REF_NAME)\}?\s*==\s*(?:\$\{?CI_DEFAULT_BRANCH\}?|["'][^"'*]+["'])"""
    r"""|\$\{?CI_DEFAULT_BRANCH\}?\s*==\s*\$\{?CI_COMMIT_(?:BRANCH|REF_NAME)\}?"""
    r"""|\$\{?CI_COMMIT_TAG\}?(?!\s*==)""")
# A `when: never` condition that turns away every unprotected ref (the rules after it are guarded).
_TURNS_AWAY = re.compile(
    r"""^\s*(?:\$\{?CI_COMMIT_REF_PROTECTED\}?\s*!=\s*["']?true["']?"""
    r"""|\$\{?CI_COMMIT_(?:BRANCH|REF_NAME)\}?\s*!=\s*\$\{?CI_DEFAULT_BRANCH\}?)\s*$""")
_UNTRUSTED = re.compile(r"""\$\{?CI_PIPELINE_SOURCE\}?\s*(?:==\s*["']|=~\s*/[^/]*?)(?:schedule|trigger|pipeline|web)""")
_UNTRUSTED_REFS = frozenset({"schedules", "triggers", "pipelines", "web"})
_ANY_REF = frozenset({"branches", "merge_requests", "pushes", "api", "external", "external_pull_requests", "chat"})


def _alternatives(expression: str) -> list[str]:
    # With parentheses the `||`s cannot be split safely: the whole expression is one alternative.
    return [expression] if "(" in expression else expression.split("||")


def _protects(expression: Any) -> bool:
    return isinstance(expression, str) and all(_PROTECTS.search(a) for a in _alternatives(expression))


def _rules_restrict(rules: list) -> bool:
    """Whether every rule that can add the job runs it only on protected refs."""
    for rule in rules:
        if not isinstance(rule, dict):
            continue  # GitLab refuses it; not ours to judge
        condition = rule.get("if")
        if rule.get("when") == "never":
            if isinstance(condition, str) and _TURNS_AWAY.match(condition):
                return True  # what follows runs only on protected refs
            continue
        if not _protects(condition):
            return False
    return True


def _only_restricts(only: Any) -> bool:
    refs = only.get("refs") if isinstance(only, dict) else only
    if isinstance(refs, str):
        refs = [refs]
    if not isinstance(refs, list):  # `only: variables:` alone: any ref where one expression holds
        variables = only.get("variables") if isinstance(only, dict) else None
        return isinstance(variables, list) and bool(variables) and all(_protects(v) for v in variables)
    # Tags, and named branches or patterns (`main`, `/^release-/`): taken as protected, an unknown is no alarm.
    return all(isinstance(r, str) and r not in _ANY_REF and r not in _UNTRUSTED_REFS for r in refs)


def _restricted(job: dict[str, Any], doc: dict[str, Any]) -> bool:
    workflow = doc.get("workflow")
    if isinstance(workflow, dict) and isinstance(workflow.get("rules"), list) and _rules_restrict(workflow["rules"]):
        return True
    rules = job.get("rules")
    if isinstance(rules, list):
        return _rules_restrict(rules)
    if job.get("only") is not None:
        return _only_restricts(job["only"])
    return False  # neither rules: nor only: runs the job on every branch


def _allows_untrusted_source(job: dict[str, Any]) -> bool:
    rules = job.get("rules")
    if isinstance(rules, list):
        return any(isinstance(r, dict) and r.get("when") != "never" and isinstance(r.get("if"), str)
                   and any(_UNTRUSTED.search(a) for a in _alternatives(r["if"])) for r in rules)
    only = job.get("only")
    refs = only.get("refs") if isinstance(only, dict) else only
    refs = [refs] if isinstance(refs, str) else refs
    return isinstance(refs, list) and any(r in _UNTRUSTED_REFS for r in refs if isinstance(r, str))

"""After the migration: what a scan with `--migrated PLAN.json` reports that the plan left behind.

Three rules, each a finding with its own id and remediation, in every report format:

- `migrated-variable-still-defined` (GitLab scans): a CI/CD variable the plan moved to Vault still
  exists at the same owner, key and environment scope. Delete it once every job reads it from
  Vault: while it exists, jobs that forgot `secrets:` keep working off the old copy.
- `migrated-variable-still-read` (every `.gitlab-ci.yml` a scan reads: a directory scan's root,
  each GitLab project's CI file): a job GitLab would run (hidden `.templates` are reported
  through the jobs that extend them), with `extends:` and `!reference` resolved by
  `radar.vault.ciyaml`, reads a moved variable as `$VAR`, `${VAR}`, `%VAR%` or `$env:VAR` in
  `before_script`, `script`, `after_script` (its own, or inherited from `default:`) or in the
  value of one of its `variables:`, and its `secrets:` has no entry named VAR. A job that defines
  VAR itself in `variables:` reads its own definition, not the moved variable: it is not
  reported here, and if the value it defines is a moved one, the next rule reports it.
- `migrated-value-reappeared`: a finding whose fingerprint is a moved value's is re-identified
  under this rule (secret type, place and confidence kept; severity at least high), so that a
  value appears once per place, not twice. It covers values in files, in history, in CI files and
  in other GitLab variables; a job's or the file's `variables:` literal, or a GitLab variable,
  holding a moved value is reported even when no detector recognises it (a value planned from a
  variable whose key named a secret). The variables the plan moved are not re-identified at
  their own place: the first rule reports them, and their detector findings stay as they are.

Which moved variables a CI file is checked for: those of its project, of the groups above it,
and of the instance (GitLab passes all of them to the job); for a directory scan, those of
`--project PATH` when given, else every variable the plan moved.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

from radar.plan.read import Migration, MovedValue, MovedVariable
from radar.report.printable import printable
from radar.scan.check_rules import REAPPEARED, RULES, STILL_DEFINED, STILL_READ
from radar.scan.findings import REDACTED, Finding, FingerprintKey, Origin, preview
from radar.scan.rules import SEVERITIES
from radar.scan.scanner import ScanReport
from radar.scan.sources.gitlab import INSTANCE, VariableRecord
from radar.vault.ciyaml import GLOBAL_KEYWORDS, inherited_scripts, parse_ci_text, runnable_jobs, variables_of
from radar.vault.errors import CIYamlError
from radar.vault.model import Variable

CI_FILE = ".gitlab-ci.yml"
SCRIPT_KEYS = ("before_script", "script", "after_script")
# `$VAR`, `${VAR}` (and `${VAR:-x}`), `%VAR%` (cmd), `$env:VAR` (PowerShell). `$$` is GitLab's
# escape for a literal `$` in variables (and the shell's process id in scripts): not a reference.
_REFERENCE = re.compile(r"(?<!\$)\$env:([A-Za-z_][A-Za-z0-9_]*)|(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_])"
                        r"|(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)|%([A-Za-z_][A-Za-z0-9_]*)%")
# A job's key at the start of a line: `name:`, `"name":` or `'name':`, for the line a finding points at.
# A plain key ends in a character that is not blank, rather than lazily before `[ \t]*:`: a lazy
# part that could end in blanks made a long line of spaces quadratic.
_TOP_KEY = re.compile(r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#'"](?:[^:#]*[^\s:#])?))[ \t]*:(?:[ \t]|$)""")
_SEVERITY_RANK = {s: n for n, s in enumerate(SEVERITIES)}  # critical first


@dataclass(frozen=True)
class CiCheck:
    """What checking one CI file found, and why it could not be checked (None when it could)."""

    findings: tuple[Finding, ...]
    problem: str | None = None


def still_defined(records: Iterable[VariableRecord], migration: Migration) -> list[Finding]:
    """`migrated-variable-still-defined` for each variable of the scan at a place the plan moved."""
    moved = {(v.owner, v.key, v.environment_scope): v for v in migration.variables}
    findings = []
    for r in records:
        v = moved.get((printable(r.owner), printable(r.key), printable(r.environment_scope)))
        if v is None:
            continue
        findings.append(_variable_finding(
            r, STILL_DEFINED, f"CI/CD variable {r.key} [{r.environment_scope}] is still defined, but the migration "
            f"moved its value to Vault ({v.value.location})", "medium",
            f"delete it from {_owner_label(r)} once every job reads it from Vault with secrets: "
            f"{v.key}: vault: {v.value.vault}"))
    return findings


def variables_holding_moved_values(records: Iterable[VariableRecord], migration: Migration) -> list[Finding]:
    """`migrated-value-reappeared` for GitLab variables, other than the moved ones, holding a moved value."""
    moved = {(v.owner, v.key, v.environment_scope) for v in migration.variables}
    findings = []
    for r in records:
        value = migration.by_fingerprint.get(r.fingerprint or "")
        if value is None or (printable(r.owner), printable(r.key), printable(r.environment_scope)) in moved:
            continue
        findings.append(_variable_finding(r, REAPPEARED, _reappeared_description(value, "CI/CD variable"), "high",
                                          _reappeared_remedy(value)))
    return findings


def check_ci_file(text: str, path: str, owner: str | None, migration: Migration, key: FingerprintKey) -> CiCheck:
    """`migrated-variable-still-read` for the jobs of one CI file, and `migrated-value-reappeared` for
    `variables:` literals holding a moved value. `owner`: the project the file belongs to (None: unknown)."""
    moved = _moved_for(owner, migration)
    origin = Origin(project=owner)
    findings: list[Finding] = []
    # A string shared by many jobs (a template's script, a global variable) is searched once:
    # `extends:`, `!reference` and aliases share the string object (whose hash Python keeps), so
    # the cost follows the file's size, not jobs x file.
    seen: dict[str, frozenset[str]] = {}
    try:
        doc = parse_ci_text(text, path)
        lines = _top_level_lines(text)
        file_vars = _Globals(variables_of(doc.get("variables"), "variables:", path), moved, seen)
        for name, config in runnable_jobs(doc, path):
            own = {v.name: v for v in variables_of(config.get("variables"), f"job {name!r}: variables:", path)}
            secrets = config.get("secrets") or {}
            if not isinstance(secrets, dict):
                raise CIYamlError(f"{path}: job {name!r}: secrets: must be a mapping")
            inherited = file_vars.inherited(config.get("inherit"), own, f"{path}: job {name!r}")
            reads = _moved_references(inherited_scripts(doc, config).values(), moved, seen) | inherited.reads
            definitions = dict(inherited.definitions)
            for variable in own.values():
                reads |= _moved_references([variable.value], moved, seen) if variable.expand else set()
                if variable.name in moved:
                    definitions[variable.name] = variable
            # A job that defines VAR reads its own definition, unless the definition reads $VAR.
            defined = {n for n, v in definitions.items() if not (v.expand and n in _references([v.value], seen))}
            for variable in sorted(reads - set(secrets) - defined):
                findings.append(_read_finding(name, variable, moved[variable], path, lines.get(name, 1), owner,
                                              migration, key, origin))
    except CIYamlError as e:
        return CiCheck((), f"{_where(owner, path)}: cannot check its jobs against the migration plan: {e}")
    findings += _literals(doc, text, path, migration, key, origin)
    return CiCheck(tuple(findings))


def check_directory_ci_file(root: str, owner: str | None, migration: Migration, key: FingerprintKey) -> CiCheck:
    """`check_ci_file` of ROOT/.gitlab-ci.yml, when ROOT is a directory that has one."""
    path = os.path.join(root, CI_FILE)
    if not os.path.isfile(path):
        return CiCheck(())
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        return CiCheck((), f"{CI_FILE}: cannot check its jobs against the migration plan: cannot read it "
                           f"({getattr(e, 'strerror', None) or type(e).__name__})")
    return check_ci_file(text, CI_FILE, owner, migration, key)


def after_directory_scan(report: ScanReport, root: str, owner: str | None, migration: Migration,
                         key: FingerprintKey) -> None:
    """A directory or history scan's report with the checks added: ROOT/.gitlab-ci.yml's jobs, and
    moved values re-identified. A CI file that cannot be checked makes the scan incomplete."""
    checked = check_directory_ci_file(root, owner, migration, key)
    if checked.problem:
        report.warnings.append(checked.problem)
        report.stats.unreadable["CI file"] += 1
    report.findings = reidentified([*report.findings, *checked.findings], (), migration)
    report.findings.sort(key=lambda f: f.sort_key)


def reidentified(findings: Sequence[Finding], extra: Iterable[Finding], migration: Migration) -> list[Finding]:
    """`findings` with those holding a moved value re-identified as `migrated-value-reappeared`,
    plus the reappearances found by these checks (`extra`, and those already among `findings`)
    that no re-identified finding reports at that place."""
    moved_places = {(v.owner, v.key, v.environment_scope) for v in migration.variables}
    extra = [*extra, *(f for f in findings if f.rule_id == REAPPEARED)]
    result = []
    for f in findings:
        if f.rule_id == REAPPEARED:
            continue
        value = migration.by_fingerprint.get(f.fingerprint)
        if value is None or f.rule_id in RULES or f.rule_id.startswith("gitlab-variable-") or (
                f.origin.variable_key is not None and _variable_place(f) in moved_places):
            result.append(f)
            continue
        where = "CI/CD variable" if f.origin.variable_key is not None else "commit" if f.history else "file"
        severity = min(f.severity, "high", key=lambda s: _SEVERITY_RANK.get(s, len(SEVERITIES)))
        result.append(replace(f, rule_id=REAPPEARED, description=_reappeared_description(value, where),
                              severity=severity, remediation=_reappeared_remedy(value)))
    reported = {_place(f) for f in result if f.rule_id == REAPPEARED}
    result += [f for f in extra if _place(f) not in reported]
    return result


def _moved_for(owner: str | None, migration: Migration) -> dict[str, MovedVariable]:
    """The moved variables a job of `owner`'s CI file receives, by key: the project's own first,
    then the nearest group's, then the instance's (GitLab's precedence)."""
    def rank(v: MovedVariable) -> tuple:
        return (0 if v.owner == owner else 2 if v.owner == INSTANCE else 1, -len(v.owner), v.environment_scope)

    if owner is None:
        applies = list(migration.variables)
    else:  # the project, each group above it, the instance: looked up, not searched for
        parts = owner.split("/")
        owners = {owner, INSTANCE, *("/".join(parts[:n]) for n in range(1, len(parts)))}
        applies = [v for o in owners for v in migration.variables_by_owner.get(o, ())]
    moved: dict[str, MovedVariable] = {}
    for v in sorted(applies, key=rank):
        moved.setdefault(v.key, v)
    return moved


@dataclass(frozen=True)
class _Inherited:
    """What a job takes from the file's top-level `variables:`: the moved names their values read,
    and the definitions of moved names."""

    reads: frozenset[str]
    definitions: dict[str, Variable]


class _Globals:
    """The file's top-level `variables:`, digested once for every job: a job inheriting all of
    them (the usual case) costs what the moved names among them cost, not what all of them do."""

    def __init__(self, variables: tuple[Variable, ...], moved: dict[str, MovedVariable],
                 seen: dict[str, frozenset[str]]) -> None:
        self.by_name = {v.name: v for v in variables}
        refs = {v.name: frozenset(_moved_references([v.value], moved, seen)) for v in self.by_name.values() if v.expand}
        self.readers = {n: r for n, r in refs.items() if r}  # the variables whose value reads a moved one
        self.all = self._digest(self.by_name.keys() & moved.keys(), self.readers)
        self.moved = moved

    def _digest(self, defined: Iterable[str], readers: dict[str, frozenset[str]]) -> _Inherited:
        return _Inherited(frozenset().union(*readers.values()), {n: self.by_name[n] for n in defined})

    def inherited(self, inherit: Any, own: dict[str, Variable], where: str) -> _Inherited:
        inherit = {} if inherit is None else inherit
        if not isinstance(inherit, dict):
            raise CIYamlError(f"{where}: inherit: must be a mapping")
        setting = inherit.get("variables", True)
        if setting is True:
            if not (own.keys() & self.readers.keys()):
                return self.all
            # The job's own variables replace the file's of the same name.
            return _Inherited(frozenset().union(*(r for n, r in self.readers.items() if n not in own)),
                              {n: v for n, v in self.all.definitions.items() if n not in own})
        if setting is False:
            return _Inherited(frozenset(), {})
        if not isinstance(setting, list):
            raise CIYamlError(f"{where}: inherit:variables must be true, false or a list")
        kept = [str(n) for n in setting if str(n) in self.by_name and str(n) not in own]
        return self._digest([n for n in kept if n in self.moved],
                            {n: self.readers[n] for n in kept if n in self.readers})


def _moved_references(texts: Iterable[Any], moved: dict[str, MovedVariable],
                      seen: dict[str, frozenset[str]]) -> set[str]:
    return {n for n in _references(texts, seen) if n in moved}


def _references(texts: Iterable[Any], seen: dict[str, frozenset[str]]) -> set[str]:
    """The variable names `texts` refer to; `seen` remembers each string's names."""
    names: set[str] = set()
    for text in _strings(texts):
        found = seen.get(text)
        if found is None:
            found = seen[text] = frozenset(next(g for g in m.groups() if g is not None)
                                               for m in _REFERENCE.finditer(text))
        names |= found
    return names


def _strings(values: Iterable[Any]) -> Iterable[str]:
    """The strings in a script: a string, or a list of them nested by `!reference` (iteratively:
    the nesting is bounded by the CI reader, but recursion need not depend on it)."""
    stack = list(values)[::-1]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            stack.extend(reversed(value))


def _read_finding(job: str, variable: str, moved: MovedVariable, path: str, line: int, owner: str | None,
                  migration: Migration, key: FingerprintKey, origin: Origin) -> Finding:
    stanza = _stanza_for(moved, owner, migration)
    if stanza is not None and stanza.variable == variable:
        also = f", or let the job extend {stanza.template} (radar plan's CI stanza, which provides it)"
    elif stanza is not None:
        also = f", or let the job extend {stanza.template} (radar plan's CI stanza) and read ${stanza.variable}"
    else:
        also = ""
    remedy = (f"add a secrets: entry for {variable} to job {job}: {variable}: {{vault: {moved.value.vault}, file: "
              f"{str(moved.value.file).lower()}}} with the job's Vault ID token{also}")
    return Finding(
        rule_id=STILL_READ, secret_type="gitlab-ci-config",
        description=f"job {job} reads ${variable}, which the migration moved to Vault ({moved.value.location}), "
                    "without a secrets: entry for it",
        severity="medium", confidence="high", path=path, line=line, column=1, end_line=line, end_column=1,
        # One fingerprint per file, job and variable: each is fixed (and baselined) on its own.
        fingerprint=key.fingerprint(f"\0radar {STILL_READ}\0{owner or ''}\0{path}\0{job}\0{variable}"),
        preview=REDACTED, origin=origin, remediation=remedy, name=variable,
    )


def _stanza_for(moved: MovedVariable, owner: str | None, migration: Migration):
    candidates = migration.secrets_by_vault.get(moved.value.vault, ())
    preferred = [s for s in candidates if s.project in (owner, moved.owner)]
    return (preferred or list(candidates) or [None])[0]


def _literals(doc: dict[str, Any], text: str, path: str, migration: Migration, key: FingerprintKey,
              origin: Origin) -> list[Finding]:
    """Variables of the file (top-level and every job's own, hidden ones too) whose value is a moved one."""
    if not migration.by_fingerprint:
        return []
    blocks = [doc.get("variables")] + [job.get("variables") for name, job in doc.items()
                                       if name not in GLOBAL_KEYWORDS and isinstance(job, dict)]
    findings = []
    positions: dict[str, tuple[int, int]] = {}  # one search of the text per distinct literal
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for name, raw in block.items():
            literal = raw.get("value") if isinstance(raw, dict) else raw
            if not isinstance(literal, str) or not literal:
                continue
            value = migration.by_fingerprint.get(key.fingerprint(literal))
            if value is None:
                continue
            if literal not in positions:
                positions[literal] = _position(text, literal)
            line, column = positions[literal]
            findings.append(Finding(
                rule_id=REAPPEARED, secret_type="gitlab-ci-variable",
                description=_reappeared_description(value, "CI file variable"), severity="high", confidence="high",
                path=path, line=line, column=column, end_line=line, end_column=column + len(literal) - 1,
                fingerprint=value.fingerprint, preview=preview(literal), origin=origin,
                remediation=_reappeared_remedy(value), name=str(name),
            ))
    return findings


def _position(text: str, literal: str) -> tuple[int, int]:
    """1-based line and column of the literal's first occurrence (1, 1 when YAML escaped it)."""
    index = text.find(literal)
    if index < 0:
        return 1, 1
    start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - start + 1


def _top_level_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        m = _TOP_KEY.match(line)
        if m:
            name = m.group(1) if m.group(1) is not None else (
                m.group(2).replace("''", "'") if m.group(2) is not None else m.group(3))
            lines.setdefault(name, number)
    return lines


def _reappeared_description(value: MovedValue, where: str) -> str:
    return f"a value the migration moved to Vault ({value.location}) is exposed again, in a {where}"


def _reappeared_remedy(value: MovedValue) -> str:
    return (f"rotate it (the copy here makes the one in Vault at {value.location} known) and store the new "
            f"value in Vault; then remove this copy, and read it with secrets: vault: {value.vault}")


def _variable_finding(r: VariableRecord, rule_id: str, description: str, severity: str, remediation: str) -> Finding:
    return Finding(
        rule_id=rule_id, secret_type="gitlab-ci-variable", description=description, severity=severity,
        confidence="high", path=r.path, line=1, column=1, end_line=1, end_column=1, fingerprint=r.fingerprint or "",
        preview=r.preview, origin=r.origin, remediation=remediation, name=r.key,
    )


def _owner_label(r: VariableRecord) -> str:
    return "the instance" if r.owner_kind == INSTANCE else f"{r.owner_kind} {r.owner}"


def _variable_place(f: Finding) -> tuple[str, str, str]:
    owner = f.origin.project or f.origin.group or INSTANCE
    return (printable(owner), printable(f.origin.variable_key or ""), printable(f.origin.environment_scope or "*"))


def _place(f: Finding) -> tuple:
    return (f.origin.project or f.origin.group, f.path, f.line, f.fingerprint)


def _where(owner: str | None, path: str) -> str:
    return f"project {owner}: {path}" if owner else path

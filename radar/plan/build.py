"""Findings -> a migration plan: which values move to Vault, where, and who may read them.

What is planned:

- not ignored findings (listed as skipped, with the suppression's reason);
- not low-confidence ones (test fixtures, placeholder-like or checksum-failing values, lock files):
  listed as skipped, with the reason the scan tagged them with;
- not CI-configuration findings (`gitlab-ci-job-jwt`, `gitlab-ci-vault-skip-verify`, and after a
  migration `migrated-variable-still-read` and `migrated-variable-still-defined`) nor a
  variable's hygiene (`gitlab-variable-*`): those become fixes with their remediation; a hygiene
  finding still plans its variable's value (the variable holds a credential), and an unmasked
  variable makes the value "rotate first" (it may be in job logs);
- one value (one fingerprint) found in several places is ONE entry listing every place. Its
  home is the first place's project; its environment is the one all places agree on, else
  `shared` (with a note: one credential serves several environments). Every (project,
  environment) where it was found becomes a target that reads it.

Naming: the field comes from the name the value is assigned to, else the GitLab variable key,
else the secret type (`radar.plan.naming`); fields sharing a Vault secret and variables sharing
a job are made unique in a stable order (path, line, fingerprint). The secret path is the
template (`ci/{project}/{environment}`) filled with safe segments.

Isolation: a target's policy grants `read` on exactly the secret paths it uses; every
environment of a project also reads the project's `shared` values (a job logs in with one role).
Non-production policies deny the project's production paths explicitly (and production policies
the project's other environments' paths), so another policy attached by mistake cannot open them. A mapping that puts a
production value and a non-production value at the same path is refused: no policy could keep
them apart.

Binding: a role binds `project_id` (or `namespace_id` for a group's variables) from the scan,
the mapping or the command line; when none is known it binds a placeholder that no token
carries (fail closed), the plan is incomplete, and `warnings` says how to fix it. The other
bound claims (protected refs, ref, pipeline source, environment) are `radar.plan.vault`'s, each
with its reason; a role the mapping opts out of protected refs that reads `shared` values is
warned about.

Rotation units: the halves of one credential found together are rotated together
(`radar.plan.rotation`).

Order of remediation per entry: rotate first when the value is in git history, was in an
unmasked CI/CD variable, validated, or in a public project; then store, grant, switch CI to
`secrets:`, and remove the hardcoded value.

Text from the scan (paths, keys, names, projects) is taken in radar's escaped form
(`radar.report.printable`), as the scan's reports show it, whichever way the findings came: a
JSON report (already escaped; escaping is idempotent) or `radar scan --plan` directly.
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from radar.errors import RadarError
from radar.plan import ci, environment, naming, rotation, vault
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping, Rule
from radar.plan.model import (
    SHARED, Binding, Entry, Fix, Place, Plan, SecretUse, Settings, Skipped, Step, Target, Write,
    is_production,
)
from radar.report.printable import printable_fields
from radar.scan.check_rules import STILL_DEFINED, STILL_READ
from radar.scan.findings import Finding
from radar.scan.rules import SEVERITIES

# Findings fixed in configuration, not values to move: a job that still reads a moved variable
# (its fingerprint names the job, not a value) and a moved variable still defined are fixes too.
CONFIG_RULES = frozenset({"gitlab-ci-job-jwt", "gitlab-ci-vault-skip-verify", STILL_READ, STILL_DEFINED})
HYGIENE_PREFIX = "gitlab-variable-"
UNMASKED_RULE = "gitlab-variable-unmasked"
PROJECT_PLACEHOLDER = "<PROJECT_ID>"
_SEVERITY_RANK = {s: n for n, s in enumerate(SEVERITIES)}  # critical first, as in the SARIF report
_SKIP_TAGS = {
    "test-fixture": "in a test fixture", "placeholder-like": "reads like a placeholder or sample",
    "validation-failed": "its checksum or structure does not validate", "lock-file": "in a lock file",
    "minified": "in minified code",
}
# Secrets CI should get as files: keys, certificates, kubeconfigs, JSON key files.
_FILE_TYPES = ("private key", "certificate", "service account key", "kubeconfig", "keystore", "ssh key")
_FILE_NAME_HINTS = ("kubeconfig", "pem", "cert", "crt", "keyfile", "key_file", "credentials_json",
                    "service_account", "serviceaccount", "_file", "ssh_key", "private_key", "keystore")


class PlanError(RadarError):
    """The findings and mapping cannot make a safe plan (e.g. production and staging share a path)."""


@dataclass(frozen=True)
class _Candidate:
    """A finding that will be planned, with what build decided about it."""

    finding: Finding
    project: str
    rule: Rule | None
    places: tuple[Place, ...]


def build_plan(findings: Sequence[Finding], scan: ScanInfo, mapping: Mapping) -> Plan:
    findings, scan = [printable_fields(f) for f in findings], printable_fields(scan)
    settings = mapping.settings
    default_project = mapping.default_project or project_from_scan(scan)
    skipped: list[Skipped] = []
    fixes: list[Fix] = []
    candidates: list[_Candidate] = []
    hygiene: list[Finding] = []
    for f in findings:
        project = f.origin.project or f.origin.group or (
            "instance" if f.origin.variable_key is not None and scan.kind == "gitlab" else default_project)
        place = f"{f.path}:{f.line}"
        if f.ignored:
            skipped.append(Skipped(f.rule_id, f.secret_type, place, f"ignored: {f.ignore_reason or 'suppressed'}"))
            continue
        if f.rule_id in CONFIG_RULES:
            fixes.append(Fix(f.rule_id, f"{project}: {place}", f.description, f.severity, f.remediation or f.description))
            continue
        if f.rule_id.startswith(HYGIENE_PREFIX):
            fixes.append(Fix(f.rule_id, _variable_label(f, project), f.description, f.severity,
                             f.remediation or f.description))
            hygiene.append(f)
            continue
        rule = mapping.rule_for(_facts(f, project))
        if rule is not None and rule.skip:
            skipped.append(Skipped(f.rule_id, f.secret_type, place, f"mapping rule: {rule.skip}"))
            continue
        if f.confidence == "low":
            why = [text for tag, text in _SKIP_TAGS.items() if tag in f.tags] or ["low confidence"]
            skipped.append(Skipped(f.rule_id, f.secret_type, place, "low confidence: " + "; ".join(why)))
            continue
        candidates.append(_Candidate(f, project, rule, _places(f, project, rule)))

    # Hygiene findings of a variable the engine found nothing in still name a credential: each
    # such variable is a place of its value (the same value in two projects: two places).
    planned = {_variable_place(c.finding, c.project) for c in candidates}
    for f in hygiene:
        project = f.origin.project or f.origin.group or "instance"
        if _variable_place(f, project) not in planned:
            rule = mapping.rule_for(_facts(f, project))
            candidates.append(_Candidate(f, project, rule, _places(f, project, rule)))
            planned.add(_variable_place(f, project))

    groups: dict[tuple, list[_Candidate]] = defaultdict(list)
    for c in candidates:
        groups[_group_key(c.finding, c.project)].append(c)
    unmasked = {_group_key(f, f.origin.project or f.origin.group or "instance")
                for f in hygiene if f.rule_id == UNMASKED_RULE}

    entries = [_entry(group, settings, mapping, key in unmasked) for key, group in groups.items()]
    entries = rotation.units(_unique_fields(entries))
    _refuse_overlaps(entries)
    writes = _writes(entries)
    targets = _targets(entries, findings, mapping, settings)
    readers = _readers(targets)
    write_for = {(w.mount, w.path): w for w in writes}
    entries = [_with_steps(e, readers.get(_value_key(e), []), write_for[(e.mount, e.path)]) for e in entries]
    warnings = _warnings(entries, targets)
    return Plan(settings=settings, source=scan.root or scan.target or "(not named in the report)",
                entries=tuple(entries), writes=tuple(writes), targets=tuple(targets), skipped=tuple(skipped),
                fixes=tuple(fixes), warnings=tuple(warnings), fingerprint_key_id=scan.fingerprint_key_id)


def project_from_scan(scan: ScanInfo) -> str:
    """A directory scan's project, when nothing names it: the scanned directory's name."""
    name = posixpath.basename((scan.root or scan.target or "").rstrip("/\\")) or "project"
    return os.path.splitext(name)[0] if name.endswith(".git") else name


def _facts(f: Finding, project: str) -> dict[str, str]:
    return {"path": f.path, "name": f.name or f.origin.variable_key or "", "secret_type": f.secret_type,
            "project": project, "scope": f.origin.environment_scope or ""}


def _variable_label(f: Finding, project: str) -> str:
    if f.origin.variable_key is not None:
        return f"CI/CD variable {f.origin.variable_key} [{f.origin.environment_scope or '*'}] of {project}"
    return f"{project}: {f.path}:{f.line}"


def _group_key(f: Finding, project: str) -> tuple:
    if f.fingerprint:
        return ("value", f.fingerprint)
    # A hidden variable: GitLab does not return its value, so the variable identifies it.
    return ("variable", project, f.origin.variable_key, f.origin.environment_scope)


def _variable_place(f: Finding, project: str) -> tuple:
    return (_group_key(f, project), project, f.origin.variable_key, f.origin.environment_scope)


def _places(f: Finding, project: str, rule: Rule | None) -> tuple[Place, ...]:
    ruled = rule.environment if rule else None
    if f.history is not None and f.history.locations:
        spots = [(loc.path, loc.line, loc.commit) for loc in f.history.locations]
    else:
        spots = [(f.path, f.line, f.origin.commit)]
    places = []
    for path, line, commit in spots:
        env, source = environment.environment_of(path, f.origin.environment_scope, ruled)
        places.append(Place(
            path=path, line=line, project=project, environment=env, environment_source=source,
            rule_id=f.rule_id, commit=commit, variable_key=f.origin.variable_key,
            environment_scope=f.origin.environment_scope,
            in_head=None if f.history is None else f.history.in_head,
        ))
    return tuple(places)


def _entry(group: list[_Candidate], settings: Settings, mapping: Mapping, unmasked: bool) -> Entry:
    group = sorted(group, key=lambda c: (c.finding.rule_id.startswith(HYGIENE_PREFIX), c.finding.sort_key))
    primary = group[0]
    f, rule = primary.finding, primary.rule
    places = tuple(sorted({p for c in group for p in c.places},
                          key=lambda p: (p.project, p.path, p.line, p.commit or "", p.variable_key or "")))
    home_project = places[0].project
    envs = sorted({p.environment for p in places})
    notes = []
    if len(envs) == 1:
        env = envs[0]
    else:
        env = SHARED
        notes.append(f"the same value is used in {', '.join(envs)}: stored once under {SHARED}; "
                     "better give each environment its own credential")
    projects = sorted({p.project for p in places})
    if len(projects) > 1:
        notes.append(f"the same value is used by {', '.join(projects)}: stored once under {home_project}, "
                     "and each project's role may read it; better give each project its own credential")
    inferred = env != SHARED and all(p.environment_source == "path" for p in places if p.environment == env)
    if inferred:
        notes.append(f"environment {env} inferred from the path; confirm it, or set it with a mapping rule")
    name = next((c.finding.name or c.finding.origin.variable_key for c in group
                 if c.finding.name or c.finding.origin.variable_key), None)
    if rule and rule.field:
        field = naming.field_name(rule.field)
    else:
        field = naming.field_name(name) if name else naming.field_name(f.secret_type, split_camel=False)
    mount = naming.path(rule.mount if rule and rule.mount else settings.mount, "secret")
    template = rule.secret_path if rule and rule.secret_path else settings.path_template
    path = naming.path(template.format(project=naming.path(home_project), environment=naming.segment(env),
                                       type=naming.segment(f.secret_type.lower())), "ci")
    file = rule.file if rule and rule.file is not None else _as_file(group)
    severity = min((c.finding.severity for c in group), key=lambda s: _SEVERITY_RANK.get(s, len(SEVERITIES)))
    return Entry(
        fingerprint=f.fingerprint, secret_type=f.secret_type, severity=severity, mount=mount, path=path,
        field=field, project=home_project, environment=env, environment_inferred=inferred, file=file,
        places=places, rotate_reasons=_rotate_reasons(group, places, mapping, unmasked), notes=tuple(notes),
    )


def _as_file(group: list[_Candidate]) -> bool:
    for c in group:
        f = c.finding
        kind = f.secret_type.lower()
        name = (f.name or f.origin.variable_key or "").lower()
        if any(t in kind for t in _FILE_TYPES) or any(h in name for h in _FILE_NAME_HINTS):
            return True
        if f.end_line > f.line:  # a multi-line value: a file keeps its newlines intact
            return True
    return False


def _rotate_reasons(group: list[_Candidate], places: Iterable[Place], mapping: Mapping, unmasked: bool) -> tuple[str, ...]:
    reasons = []
    histories = [c.finding.history for c in group if c.finding.history is not None]
    if any(not h.in_head for h in histories) and not any(h.in_head for h in histories):
        reasons.append("it is only in git history (deleted from the files, still in every clone and fork)")
    elif histories:
        reasons.append("it is in git history: every clone and fork keeps it, whatever the files say now")
    if unmasked:
        reasons.append("it was stored in an unmasked CI/CD variable, so job logs may show it")
    if any("validated" in c.finding.tags for c in group):
        reasons.append("its format validates (checksum or structure), so it is likely a live credential")
    public = sorted({p.project for p in places if mapping.project(p.project).public})
    if public:
        reasons.append(f"{', '.join(public)} is or was public")
    return tuple(reasons)


def _unique_fields(entries: list[Entry]) -> list[Entry]:
    """Fields sharing a Vault secret get `_2`, `_3`, ... in a stable order."""
    by_secret: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        by_secret[(e.mount, e.path)].append(e)
    result = []
    for key in sorted(by_secret):
        ordered = sorted(by_secret[key], key=_entry_order)
        fields = naming.unique(e.field for e in ordered)
        result += [replace(e, field=name) for e, name in zip(ordered, fields)]
    return result


def _entry_order(e: Entry) -> tuple:
    first = e.places[0]
    return (e.field, first.path, first.line, e.fingerprint)


def _refuse_overlaps(entries: list[Entry]) -> None:
    sides: dict[str, set[bool]] = defaultdict(set)
    for e in entries:
        sides[e.api_path].add(is_production(e.environment))
    for path, kinds in sorted(sides.items()):
        if len(kinds) > 1:
            raise PlanError(
                f"the mapping puts production and non-production values in the same Vault secret {path}: "
                "no policy could keep them apart; put {environment} in the path template or the rule's secret_path"
            )


def _writes(entries: list[Entry]) -> list[Write]:
    fields: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e in entries:
        fields[(e.mount, e.path)].append(e.field)
    return [Write(mount, path, tuple(sorted(names))) for (mount, path), names in sorted(fields.items())]


def _targets(entries: list[Entry], findings: Sequence[Finding], mapping: Mapping, settings: Settings) -> list[Target]:
    # (project, environment) -> the entries found there, in order, by their unique _value_key
    # (a list's `in` compared whole entries: quadratic in the values of one project).
    readers: dict[tuple[str, str], dict[tuple[str, str], Entry]] = defaultdict(dict)
    for e in entries:
        for p in e.places:
            readers[(p.project, p.environment)].setdefault(_value_key(e), e)
    ids = _known_ids(findings)
    by_project: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_project[e.project].append(e)

    targets = []
    for (project, env), found in sorted(readers.items()):
        # A job logs in with one role, so a project's shared values (no environment known, or
        # several) must be readable by each of its environments' roles, not only by its own.
        shared = [e for e in by_project[project] if e.environment == SHARED and _value_key(e) not in found]
        used = sorted([*found.values(), *(shared if env != SHARED else [])], key=lambda e: (e.api_path, e.field))
        variables = naming.unique(naming.variable_name(e.field) for e in used)
        uses = tuple(SecretUse(v, e) for v, e in zip(variables, used))
        read = tuple(sorted({e.api_path for e in used}))
        production = is_production(env)
        deny = {e.api_path for e in by_project[project]
                if e.environment != SHARED and is_production(e.environment) != production}
        if not production and "{type}" not in settings.path_template:
            deny.add(f"{naming.path(settings.mount)}/data/" + naming.path(settings.path_template.format(
                project=naming.path(project), environment="production")))
        deny_paths = tuple(sorted(deny - set(read)))
        binding = _binding(project, ids, mapping)
        environment_claim = None if env == SHARED else env
        name = naming.role_name(project, env)
        policy = vault.policy_hcl(read, deny_paths)
        claims, reasons = vault.bound_claims(settings.roles, binding, environment_claim, production, env)
        target = Target(
            project=project, environment=env, binding=binding, role_name=name, policy_name=name, uses=uses,
            read_paths=read, deny_paths=deny_paths, environment_claim=environment_claim,
            glob=vault.needs_glob(claims), policy_hcl=policy, role=vault.role(settings, name, claims),
            ci_template=f".vault-{name}", reasons=reasons,
        )
        targets.append(replace(target, ci_yaml=ci.stanza(target, settings)))
    return targets


def _known_ids(findings: Sequence[Finding]) -> dict[str, tuple[str, int]]:
    ids: dict[str, tuple[str, int]] = {}
    for f in findings:
        if f.origin.project and f.origin.project_id is not None:
            ids.setdefault(f.origin.project, ("project_id", f.origin.project_id))
        elif f.origin.group and f.origin.namespace_id is not None:
            ids.setdefault(f.origin.group, ("namespace_id", f.origin.namespace_id))
    return ids


def _binding(project: str, ids: dict[str, tuple[str, int]], mapping: Mapping) -> Binding:
    info = mapping.project(project)
    if info.project_id is not None:
        return Binding("project_id", str(info.project_id), True)
    if info.namespace_id is not None:
        return Binding("namespace_id", str(info.namespace_id), True)
    if project in ids:
        claim, value = ids[project]
        return Binding(claim, str(value), True)
    return Binding("project_id", PROJECT_PLACEHOLDER, False)


def _readers(targets: list[Target]) -> dict[tuple[str, str], list[tuple[Target, str]]]:
    """Each value's readers, looked up once rather than by scanning every target for every entry
    (quadratic: minutes for a large GitLab group): the targets in order, with the variable each
    one gets the value as (its first use of it)."""
    readers: dict[tuple[str, str], list[tuple[Target, str]]] = defaultdict(list)
    for t in targets:
        variables: dict[tuple[str, str], str] = {}
        for u in t.uses:
            variables.setdefault(_value_key(u.entry), u.variable)
        for key, variable in variables.items():
            readers[key].append((t, variable))
    return readers


def _with_steps(e: Entry, readers: list[tuple[Target, str]], write: Write) -> Entry:
    steps = []
    if e.rotate_reasons:
        steps.append(Step("rotate", "Rotate it at its provider first, because " + "; ".join(e.rotate_reasons)
                          + ". Store the new value, never the old one."))
    steps.append(Step("store", f"Write it to {e.mount}/{e.path} field {e.field}: {write.command} "
                               f"(with the value in {write.file(e.field)}, mode 0600, deleted afterwards)"))
    for t, _ in readers:
        steps.append(Step("grant", f"Write policy {t.policy_name} and JWT role {t.role_name} "
                                   f"({t.binding.claim} {t.binding.value})"))
    for t, variable in readers:
        steps.append(Step("ci", f"In {t.project}, let the jobs that need it (environment {t.environment}) "
                                f"extend {t.ci_template}; they get it as {variable}"
                                f"{' (a file path)' if e.file else ''}"))
    for p in e.places:
        if p.variable_key is not None:
            text = f"Delete the {p.label} once the jobs read it from Vault"
        elif p.in_head is False:
            text = f"{p.label}: already gone from the files; rotation makes the copy in history worthless"
        else:
            text = f"Remove the hardcoded value from {p.label}"
        steps.append(Step("remove", text))
    return replace(e, steps=tuple(steps))


def _value_key(e: Entry) -> tuple[str, str]:
    return (e.api_path, e.field)  # unique once _unique_fields ran


def _warnings(entries: list[Entry], targets: list[Target]) -> list[str]:
    warnings = []
    unknown = sorted({t.project for t in targets if not t.binding.known})
    for project in unknown:
        warnings.append(
            f"no GitLab project id for {project}: its roles bind project_id {PROJECT_PLACEHOLDER}, which no "
            f"token matches (the plan is incomplete); give --project-id N (or --namespace-id N), or "
            f"[projects.\"{project}\"] id = N in the mapping file"
        )
    # A role opted out of ref_protected still reads its project's shared values: say so, since
    # those are then readable from any branch, not only from that environment's.
    open_roles = sorted(t.role_name for t in targets if "ref_protected" not in t.role["bound_claims"]
                        and any(u.entry.environment == SHARED for u in t.uses))
    if open_roles:
        warnings.append(f"role(s) {', '.join(open_roles)} admit unprotected branches (the mapping opts them out of "
                        f"ref_protected) and read {SHARED} values: any developer's branch can read those; give those "
                        "environments their own credentials, or drop the opt-out")
    inferred = sorted({f"{e.project}/{e.environment}" for e in entries if e.environment_inferred})
    if inferred:
        warnings.append(f"environment inferred from file paths for {', '.join(inferred)}: check them, "
                        "or set environment with a mapping rule")
    return warnings

"""The plan as JSON, for tools: `{"plan": {...}, "entries": [...], "targets": [...], ...}`.

Stable keys. `complete` is false while a role binds a placeholder id; `fingerprint_key_id` names
the key the fingerprints were made with (null when the findings report did not say), so that
`radar scan --migrated PLAN.json` can refuse to compare fingerprints made under another key. Entries carry the
fingerprint of the value (never the value), its Vault location, every place and the ordered
remediation steps, and `rotate_with` the other halves of the same credential (rotated together);
`plan.roles` says what roles bind besides the project; targets carry the policy (HCL text), the
role (the JSON body to write to `auth/<path>/role/<name>`), one line per bound claim saying why
(`reasons`), the commands that apply them (naming the files `--output-dir` writes, relative to
it, or taking them inline on a heredoc), and the CI stanza (YAML text). `vault_setup` lists the
Vault steps (title, why, the idempotent command) and `gitlab_setup` what to protect in GitLab for
the roles' bindings to hold.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from radar.plan.artifacts import grant_commands
from radar.plan.model import Entry, Plan, RoleRules, Target
from radar.plan.setup import gitlab_steps, vault_steps


def render(plan: Plan, files: bool = False) -> str:
    s = plan.settings
    document = {
        "plan": {
            "source": plan.source,
            "complete": plan.complete,
            "fingerprint_key_id": plan.fingerprint_key_id,
            "kv_mount": s.mount, "path_template": s.path_template, "audience": s.audience,
            "auth_path": s.auth_path, "token_explicit_max_ttl": s.token_ttl, "user_claim": s.user_claim,
            "gitlab_url": s.gitlab_url,
            "roles": _roles(s.roles),
            "counts": {"entries": len(plan.entries), "targets": len(plan.targets),
                       "skipped": len(plan.skipped), "fixes": len(plan.fixes)},
        },
        "vault_setup": [{"title": step.title, "why": step.why, "command": step.shell(files),
                         "if_fails": step.if_fails} for step in vault_steps(plan)],
        "gitlab_setup": [asdict(p) for p in gitlab_steps(plan)],
        "warnings": list(plan.warnings),
        "entries": [_entry(e) for e in plan.entries],
        "writes": [{"mount": w.mount, "path": w.path, "fields": list(w.fields),
                    "files": {f: w.file(f) for f in w.fields}, "command": w.command} for w in plan.writes],
        "targets": [_target(t, plan, files) for t in plan.targets],
        "skipped": [asdict(k) for k in plan.skipped],
        "fixes": [asdict(f) for f in plan.fixes],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _entry(e: Entry) -> dict:
    return {
        "fingerprint": e.fingerprint, "secret_type": e.secret_type, "severity": e.severity,
        "mount": e.mount, "path": e.path, "field": e.field, "api_path": e.api_path, "vault": e.short_form,
        "project": e.project, "environment": e.environment, "environment_inferred": e.environment_inferred,
        "file": e.file, "rotate_first": bool(e.rotate_reasons), "rotate_reasons": list(e.rotate_reasons),
        "rotate_with": list(e.rotate_with),
        "notes": list(e.notes),
        "places": [{k: v for k, v in asdict(p).items() if v is not None} for p in e.places],
        "steps": [asdict(step) for step in e.steps],
    }


def _target(t: Target, plan: Plan, files: bool) -> dict:
    return {
        "project": t.project, "environment": t.environment, "production": t.production,
        "binding": asdict(t.binding), "role_name": t.role_name, "policy_name": t.policy_name,
        "secrets": [{"variable": u.variable, "vault": u.entry.short_form, "file": u.entry.file} for u in t.uses],
        "read_paths": list(t.read_paths), "deny_paths": list(t.deny_paths),
        "policy_hcl": t.policy_hcl, "role": t.role, "reasons": list(t.reasons),
        "commands": [c.shell(files) for c in grant_commands(plan, t)],
        "ci_template": t.ci_template, "ci_yaml": t.ci_yaml,
    }


def _roles(r: RoleRules) -> dict:
    return {"default_branch": r.default_branch, "default_branch_source": r.default_branch_source,
            "production_refs": list(r.production_refs), "ref_type": r.ref_type,
            "pipeline_sources": list(r.pipeline_sources), "environment_protected": r.environment_protected,
            "ref_protected": r.ref_protected, "unprotected_environments": list(r.unprotected_environments)}

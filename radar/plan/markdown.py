"""The plan as Markdown, for people: what to do, in order, with every command and file to paste.

Sections: status; the Vault setup (JWT auth, its config, KV v2 mounts, an audit device) and the
GitLab setup (what to protect for the roles' bindings to hold); warnings; the entries (one row
per value: where it goes in Vault, where it was found, whether to rotate first); the order of
work (rotate, store, grant, switch CI, remove); one section per target with its policy (HCL),
role (JSON), the commands that apply them (naming the files `--output-dir` wrote, or carrying
them inline on a heredoc, so no command names a file that does not exist) and its
`.gitlab-ci.yml` stanza; fixes for CI configuration and variables; skipped findings.
Text from the scan is escaped for table cells, and code blocks are fenced with more backticks
than they contain.
"""

from __future__ import annotations

import re

from radar.plan.artifacts import VALUES, grant_commands
from radar.plan.model import Entry, Plan, Target
from radar.plan.setup import gitlab_steps, vault_steps
from radar.plan.vault import role_json


def render(plan: Plan, files: bool = False) -> str:
    out: list[str] = ["# Vault migration plan", ""]
    status = "complete" if plan.complete else "**INCOMPLETE**: some roles bind a placeholder project id (see warnings)"
    out += [f"- Source: {_inline(plan.source)}", f"- Status: {status}",
            f"- {len(plan.entries)} value(s) to move to Vault, {len(plan.targets)} role(s), "
            f"{sum(1 for e in plan.entries if e.rotate_reasons)} to rotate first, "
            f"{len(plan.fixes)} configuration fix(es), {len(plan.skipped)} skipped",
            f"- KV v2 mount `{plan.settings.mount}`, path template `{plan.settings.path_template}`, "
            f"audience `{plan.settings.audience}`, JWT auth at `{plan.settings.auth_path}`, "
            f"tokens live at most {plan.settings.token_ttl} s", ""]
    out += _vault_setup(plan, files) + _gitlab_setup(plan)
    if plan.warnings:
        out += ["## Warnings", ""] + [f"- {_inline(w)}" for w in plan.warnings] + [""]
    out += ["## Values to move", ""]
    if plan.entries:
        out += ["| Vault (`path/field@mount`) | Type | Severity | Environment | Found in | Rotate first |",
                "|---|---|---|---|---|---|"]
        for e in plan.entries:
            env = e.environment + (" (inferred)" if e.environment_inferred else "")
            places = "<br>".join(_cell(p.label) for p in e.places)
            out.append(f"| `{e.short_form}` | {_cell(e.secret_type)} | {e.severity} | {_cell(env)} | {places} | "
                       f"{_rotate(e)} |")
    else:
        out.append("Nothing to move.")
    out.append("")
    if plan.entries:
        out += _order_of_work(plan, files)
    for t in plan.targets:
        out += _target(t, plan, files)
    if plan.entries:
        out += ["## Every value, step by step", ""]
        for e in plan.entries:
            out += _entry(e)
    if plan.fixes:
        out += ["## Configuration fixes", "", "| Rule | Where | Severity | What to do |", "|---|---|---|---|"]
        out += [f"| {f.rule_id} | {_cell(f.place)} | {f.severity} | {_cell(f.action)} |" for f in plan.fixes]
        out.append("")
    if plan.skipped:
        out += ["## Skipped", "", "| Rule | Where | Why |", "|---|---|---|"]
        out += [f"| {s.rule_id} | {_cell(s.place)} | {_cell(s.reason)} |" for s in plan.skipped]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _rotate(e: Entry) -> str:
    answer = "yes" if e.rotate_reasons else "no"
    return answer + "".join(f", with `{other}`" for other in e.rotate_with)


def _vault_setup(plan: Plan, files: bool) -> list[str]:
    out = ["## Vault setup", "",
           "Once, before the roles, with a token that may manage auth methods, mounts, audit devices and "
           "policies. Each command is a no-op when already done."
           + (" The commands name files in the output directory: run them there; `bash apply.sh` runs them "
              "all, then the policies, roles and values." if files else ""), ""]
    for n, step in enumerate(vault_steps(plan), 1):
        out += [f"{n}. **{_inline(step.title)}**: {_inline(step.why)}"
                + (f" If it fails: {_inline(step.if_fails)}." if step.if_fails else ""), ""]
        out += _code("shell", step.shell(files), indent="   ")
    return out


def _gitlab_setup(plan: Plan) -> list[str]:
    out = ["## GitLab setup", ""]
    protect = gitlab_steps(plan)
    if not protect:
        return out + ["Nothing to protect: no role binds a production environment or protected refs.", ""]
    out += ["The roles trust what GitLab puts in the ID token; protect what they rely on "
            "(the API calls take a token with the api scope in `$GITLAB_TOKEN`):", ""]
    for p in protect:
        roles = ", ".join(f"`{r}`" for r in p.roles)
        out += [f"- **{_inline(p.owner)}: {p.kind} `{_inline(p.name)}`** (roles {roles}): {_inline(p.why)}.",
                f"  In GitLab: {_inline(p.ui)}.", ""]
        if p.api:
            out += _code("shell", p.api, indent="  ")
    return out


def _order_of_work(plan: Plan, files: bool) -> list[str]:
    out = ["## Order of work", ""]
    rotate = [e for e in plan.entries if e.rotate_reasons]
    if rotate:
        out += ["1. **Rotate first** (the old value must be considered known):"]
        out += [f"   - `{e.short_form}` ({_cell(e.secret_type)}): {_inline('; '.join(e.rotate_reasons))}"
                + "".join(f"; together with `{other}` (one credential)" for other in e.rotate_with)
                for e in rotate]
    else:
        out += ["1. Rotation: no value is known to be in history, logs or a public place; rotating anyway is cheap."]
    out += ["2. **Store** each value (write it to the `.secret` file the command names, mode 0600, run, delete the file; "
            "never put a value on the command line):", ""]
    out += _code("shell", "\n".join(w.command for w in plan.writes), indent="   ")
    if files:
        out += [f"   Or write each of those files into `{VALUES}/` in the output directory and run `bash apply.sh`: "
                "it stores each value (and does the setup and step 3) and stops, changing nothing, while one that "
                "Vault does not hold yet is missing.",
                ""]
    out += ["3. **Grant**: write each target's policy and role (below).",
            "4. **Switch CI**: add each target's stanza and let the jobs that need the values `extends:` it; "
            "set `VAULT_SERVER_URL` as a CI/CD variable.",
            "5. **Remove** the hardcoded values and the old CI/CD variables.", ""]
    return out


def _target(t: Target, plan: Plan, files: bool) -> list[str]:
    binding = f"`{t.binding.claim}` = `{t.binding.value}`" + ("" if t.binding.known else " (placeholder: fails closed)")
    out = [f"## {_inline(t.project)}: {_inline(t.environment)}", "",
           f"- Role and policy `{t.role_name}`, bound to {binding}"
           + (", protected refs, the deploying ref and pipeline source, and the environment" if t.production else ""),
           f"- Reads {len(t.read_paths)} secret path(s); denies {len(t.deny_paths)}", "",
           "Why the role binds what it binds:", ""]
    out += [f"- {_inline(why)}" for why in t.reasons]
    out += ["", "Policy:", ""]
    out += _code("hcl", t.policy_hcl)
    out += ["JWT role:", ""]
    out += _code("json", role_json(t.role))
    out += ["Apply (the files are in the output directory):" if files else "Apply (policy and role inline):", ""]
    out += _code("shell", "\n".join(c.shell(files) for c in grant_commands(plan, t)))
    out += ["`.gitlab-ci.yml`:", ""]
    out += _code("yaml", t.ci_yaml)
    return out


def _entry(e: Entry) -> list[str]:
    out = [f"### `{e.short_form}`", "",
           f"{_inline(e.secret_type)}, {e.severity}; fingerprint `{e.fingerprint[:16]}`; "
           f"delivered as {'a file' if e.file else 'a variable'}.", ""]
    out += [f"- Note: {_inline(n)}" for n in e.notes]
    out += [f"{i}. **{s.kind}**: {_inline(s.text)}" for i, s in enumerate(e.steps, 1)]
    out.append("")
    return out


def _code(language: str, text: str, indent: str = "") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    lines = [f"{indent}{fence}{language}"] + [indent + line for line in text.rstrip("\n").split("\n")]
    return lines + [f"{indent}{fence}", ""]


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _inline(text: str) -> str:
    # One line, and no Markdown or HTML from a path or name can take effect.
    flat = " ".join(str(text).split())
    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", flat)

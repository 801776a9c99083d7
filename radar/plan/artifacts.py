"""`radar plan --output-dir DIR`: the plan's files, and `apply.sh` that applies them in order.

Layout (paths relative to DIR, the same ones the plan's pages name):

- `policies/<name>.hcl` and `roles/<name>.json` per role (the HCL and JSON of `radar.plan.vault`);
- `auth-config.json`: the JWT auth config (`radar.plan.setup`);
- `gitlab-ci.yml`: every role's `.gitlab-ci.yml` stanza;
- `apply.sh`: checks, then the Vault setup, the policies, the roles and one `vault kv put` per
  secret reading the VALUE FILES the user writes into `values/` (or `$RADAR_VALUES_DIR`);
- `.gitignore` keeping `values/` out of git, and `.radar-plan-files`, the list of what radar wrote.

apply.sh holds no value. It stops before changing anything when a value file it needs is missing
or empty (unless Vault already holds that field: a run after the files were deleted keeps what
Vault holds), or the auth config still holds the GitLab URL placeholder. It runs `${VAULT_CLI:-vault}`
(`VAULT_CLI=bao` for OpenBao). Every step is a no-op when already done: the setup checks first,
policies and roles are written whole, and a secret whose fields already hold exactly the value
files' bytes (compared with `cmp`, in a pipe: nothing printed) is not written again, so a second
run adds no KV version.

Every name in a path or a command comes from `radar.plan.naming` (`[A-Za-z0-9_.-]`, no leading
dot) and is checked again here; every word in apply.sh is shell-quoted. An existing DIR is used
only if it is empty or radar wrote it (it holds `.radar-plan-files`): then radar replaces only the
files that list names (and removes those the new plan no longer has); anything else, the user's
`values/` included, is left alone. A file radar would write that the list does not name, or a link
where a file or folder of radar's should be, is refused: `write_file` follows links, and a link
must not carry a write outside DIR.
"""

from __future__ import annotations

import os
import re
import shlex
import stat

from radar.errors import RadarError
from radar.files import write_file
from radar.plan import ci
from radar.plan.model import Plan, Target, Write
from radar.plan.setup import (
    AUTH_CONFIG, GITLAB_PLACEHOLDER, Command, Document, auth_config, gitlab_steps, vault_steps,
)
from radar.plan.vault import role_json

MANIFEST = ".radar-plan-files"
VALUES = "values"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}")
# What a manifest may list: radar's own layout, nothing else (the manifest is in a folder the
# user controls, so an entry like `../x` must not make radar replace or remove anything).
_RADAR_FILE = re.compile(r"(?:policies/[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.hcl"
                         r"|roles/[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.json"
                         rf"|{re.escape(AUTH_CONFIG)}|gitlab-ci\.yml|apply\.sh|\.gitignore)")
_MAX_MANIFEST = 1 << 20
_NO_GITLAB = (f"{AUTH_CONFIG} still says {GITLAB_PLACEHOLDER}: write GitLab's address there "
              "(https://gitlab.example.com), or plan again with --gitlab-url URL")


class OutputDirError(RadarError):
    """The --output-dir directory cannot take the plan's files safely."""


def safe_name(name: str) -> str:
    """A role, policy or file name as naming made it; anything else is a bug, not input."""
    if not _SAFE_NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"unsafe name reached the plan's files: {name!r}")
    return name


def policy_document(t: Target) -> Document:
    return Document(f"policies/{safe_name(t.policy_name)}.hcl", t.policy_hcl)


def role_document(t: Target) -> Document:
    return Document(f"roles/{safe_name(t.role_name)}.json", role_json(t.role))


def grant_commands(plan: Plan, t: Target) -> tuple[Command, Command]:
    """`vault policy write` and the role's `vault write`, reading the documents above."""
    role_path = f"auth/{plan.settings.auth_path.strip('/')}/role/{safe_name(t.role_name)}"
    return (Command(f"vault policy write {shlex.quote(safe_name(t.policy_name))}", policy_document(t), at=False),
            Command(f"vault write {shlex.quote(role_path)}", role_document(t)))


def value_file(write: Write, field: str) -> str:
    return safe_name(write.file(field))


def files(plan: Plan) -> dict[str, str]:
    """Every file of DIR but the manifest: path -> content."""
    out: dict[str, str] = {}
    for t in plan.targets:
        for document in (policy_document(t), role_document(t)):
            out[document.path] = document.content
    out[AUTH_CONFIG] = auth_config(plan).content
    out["gitlab-ci.yml"] = ci.project_file(list(plan.targets))
    out["apply.sh"] = apply_script(plan)
    out[".gitignore"] = f"# The value files apply.sh reads: secrets, never committed.\n/{VALUES}/\n"
    return out


def apply_script(plan: Plan) -> str:
    q = shlex.quote
    lines = [
        "#!/usr/bin/env bash",
        "# Written by radar plan. Applies the plan's Vault side in order: setup, policies, roles, values.",
        "# Holds no secret value: each one is read from a file you write in $RADAR_VALUES_DIR",
        f"# (default {VALUES}/ next to this script), mode 0600; delete the files once it ran.",
        "# Run again at will: what is already done is left as it is, and a value whose file is gone",
        "# but which Vault already holds stays as Vault holds it.",
        "# VAULT_CLI=bao for OpenBao; VAULT_ADDR/VAULT_TOKEN (BAO_ADDR/BAO_TOKEN) as usual.",
        "set -euo pipefail",
        'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        "# A relative RADAR_VALUES_DIR is relative to where apply.sh was started, not to its folder.",
        f'VALUES="${{RADAR_VALUES_DIR:-$here/{VALUES}}}"',
        'case "$VALUES" in /*) ;; *) VALUES="$PWD/$VALUES" ;; esac',
        'cd "$here"',
        'vault() { command "${VAULT_CLI:-vault}" "$@"; }',
        'fail() { echo "apply.sh: $*" >&2; exit 1; }',
        "# True when the secret's field holds exactly the file's bytes (compared in a pipe, never shown).",
        'stored() { cmp -s <(vault kv get -mount="$1" -field="$3" "$2" 2>/dev/null) "$VALUES/$4"; }',
        "# True when Vault holds the field at all (its value goes nowhere).",
        'held() { vault kv get -mount="$1" -field="$3" "$2" >/dev/null 2>&1; }',
        "# True when a value file of the secret is missing: then Vault keeps what it holds (checked above).",
        'kept() { local f; for f in "$@"; do [ -s "$VALUES/$f" ] || return 0; done; return 1; }',
        "",
        "# Checks, before anything changes.",
        "command -v \"${VAULT_CLI:-vault}\" >/dev/null || fail \"no ${VAULT_CLI:-vault} command; "
        "install the Vault CLI or set VAULT_CLI=bao\"",
        f"! grep -qF {q(GITLAB_PLACEHOLDER)} {AUTH_CONFIG} || fail {q(_NO_GITLAB)}",
        "missing=0",
    ]
    for w in plan.writes:
        for field in w.fields:
            name = value_file(w, field)
            what = f"{w.mount}/{w.path} field {field}"
            lines.append(f'[ -s "$VALUES"/{q(name)} ] || held {q(w.mount)} {q(w.path)} {q(field)} || '
                         f'{{ echo "apply.sh: missing or empty value file $VALUES/"{q(name)}": write the value of '
                         f'"{q(what)}" to it (mode 0600)" >&2; missing=1; }}')
    lines += ['[ "$missing" = 0 ] || fail "no change made: write the value files above, then run again"', ""]
    lines.append("# Vault setup.")
    for step in vault_steps(plan):
        lines.append(f"# {step.title}: {step.why}".replace("\n", " "))
        command = step.command.shell(True)
        if step.if_fails:
            command += f" || fail {q(step.if_fails)}"
        lines.append(f"{step.unless} || {command}" if step.unless else command)
        if step.verify:
            lines.append(f"{step.verify} || fail {q(step.verify_fails)}")
    lines += ["", "# Policies, then roles (a role names its policy)."]
    grants = [grant_commands(plan, t) for t in plan.targets]
    lines += [policy.shell(True) for policy, _ in grants]
    lines += [role.shell(True) for _, role in grants]
    lines += ["", "# Values: written only when they differ from what Vault holds."]
    for w in plan.writes:
        same = " && ".join(f"stored {q(w.mount)} {q(w.path)} {q(f)} {q(value_file(w, f))}" for f in w.fields)
        put = " ".join(f'{q(f + "=@")}"$VALUES"/{q(value_file(w, f))}' for f in w.fields)
        files = " ".join(q(value_file(w, f)) for f in w.fields)
        lines.append(f"kept {files} || {{ {same}; }} || vault kv put -mount={q(w.mount)} {q(w.path)} {put}")
    protect = gitlab_steps(plan)
    lines += ["", 'echo "apply.sh: Vault is set up as the plan says."']
    if protect:
        lines.append(f'echo "apply.sh: now protect in GitLab what the roles rely on ({len(protect)} item(s)): '
                     'see the plan\'s GitLab setup."')
    return "\n".join(lines) + "\n"


def write_dir(plan: Plan, directory: str) -> list[str]:
    """Write the plan's files into `directory` (created if missing); the paths written, in order."""
    wanted = files(plan)
    earlier = _prepare(directory, wanted)
    # The list first, naming every file radar may leave there: if writing stops half-way, the
    # next run still knows them as radar's.
    write_file(os.path.join(directory, MANIFEST), "".join(f"{p}\n" for p in sorted(earlier | set(wanted))),
               "plan file")
    for sub in ("policies", "roles"):
        _make_dir(os.path.join(directory, sub), directory)
    for path, content in wanted.items():
        write_file(os.path.join(directory, path), content, "plan file", mode=0o755 if path == "apply.sh" else 0o644)
    for stale in sorted(earlier - set(wanted)):
        try:
            os.unlink(os.path.join(directory, stale))
        except FileNotFoundError:
            pass
        except OSError as e:
            raise OutputDirError(f"--output-dir {directory}: cannot remove the earlier plan's {stale}: "
                                 f"{e.strerror}") from None
    write_file(os.path.join(directory, MANIFEST), "".join(f"{p}\n" for p in wanted), "plan file")
    return list(wanted)


def check_dir(directory: str) -> set[str] | None:
    """Refuse, before any work, a directory that cannot take the plan's files: not a directory,
    or holding files radar did not write. The files an earlier plan of radar's wrote there (an
    empty set for an empty directory), None when it does not exist yet."""
    try:
        status = os.stat(directory)  # DIR itself may be a link the user chose; links inside it may not
    except FileNotFoundError:
        if os.path.islink(directory):
            raise OutputDirError(f"--output-dir {directory}: a link to nothing; "
                                 "give a new or empty directory") from None
        return None
    except OSError as e:
        raise OutputDirError(f"--output-dir {directory}: {e.strerror}; choose another directory") from None
    if not stat.S_ISDIR(status.st_mode):
        raise OutputDirError(f"--output-dir {directory}: not a directory; give a new or empty directory")
    try:
        entries = os.listdir(directory)
    except OSError as e:
        raise OutputDirError(f"--output-dir {directory}: cannot list it: {e.strerror}") from None
    if not entries:
        return set()
    earlier = _manifest(directory)
    if earlier is None:
        raise OutputDirError(f"--output-dir {directory}: not empty, and radar did not write it (no {MANIFEST}); "
                             "give a new or empty directory, so no file of yours is replaced")
    return earlier


def _prepare(directory: str, wanted: dict[str, str]) -> set[str]:
    """Check that `directory` may take the files; the files an earlier plan of radar's wrote there."""
    earlier = check_dir(directory)
    if earlier is None:
        _make_dir(directory, directory)
        return set()
    for path in sorted(set(wanted) | earlier):
        for part in _parents(path):
            full = os.path.join(directory, part)
            if os.path.islink(full) or (os.path.exists(full) and not os.path.isdir(full)):
                raise OutputDirError(f"--output-dir {directory}: {part} is not radar's folder; move it away")
        full = os.path.join(directory, path)
        if os.path.islink(full) or (os.path.lexists(full) and not os.path.isfile(full)):
            raise OutputDirError(f"--output-dir {directory}: {path} is a link or not a regular file; "
                                 "radar writes only its own files there: move it away")
        if os.path.lexists(full) and path not in earlier:
            raise OutputDirError(f"--output-dir {directory}: {path} exists and radar did not write it; "
                                 "move it away, or give a new directory")
    return earlier


def _manifest(directory: str) -> set[str] | None:
    path = os.path.join(directory, MANIFEST)
    if os.path.islink(path) or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(_MAX_MANIFEST)
    except OSError as e:
        raise OutputDirError(f"--output-dir {directory}: cannot read {MANIFEST}: {e.strerror}") from None
    return {line for line in text.splitlines() if _RADAR_FILE.fullmatch(line)}


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _make_dir(path: str, directory: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise OutputDirError(f"--output-dir {directory}: cannot create {path}: {e.strerror}") from None
    if os.path.islink(path) or not os.path.isdir(path):
        raise OutputDirError(f"--output-dir {directory}: {path} is not a directory; move it away")

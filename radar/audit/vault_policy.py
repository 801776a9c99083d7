"""Vault ACL policies as text (HCL, or Vault's JSON form) -> the path rules the audit reasons about.

Vault stores a policy as the text it was given: HCL (`path "secret/data/*" { capabilities = ["read"] }`)
or the same structure in JSON. HCL goes to python-hcl2 (a maintained HCL parser: Vault's grammar has
heredocs, comments and nested objects that a hand-made reader would get wrong); JSON to radar's own
bounded reader. Only each path's `capabilities` (and the old `policy = "write"` shorthand) matter here.

A policy comes from Vault, which anyone with write on `sys/policies/acl` fills: its text is capped at
MAX_POLICY_BYTES and MAX_NESTING levels of brackets before any parser sees it, so a hostile policy costs
bounded time and cannot overflow the stack; anything that does not parse is `PolicyUnreadable`.
"""

from __future__ import annotations

from dataclasses import dataclass

from radar import json_input

# Policies are a few KiB. python-hcl2 parses about 90 KB/s (benchmarks/audit_policy.py), so 64 KiB
# bounds one policy's cost to under a second while holding a thousand path rules.
MAX_POLICY_BYTES = 64 * 1024
MAX_NESTING = 32  # Vault policies nest three levels (path -> block -> parameter lists)
# The old shorthand `policy = "..."` as the capabilities it stands for (Vault's documented mapping).
_SHORTHAND = {"deny": ("deny",), "read": ("read", "list"), "write": ("create", "read", "update", "delete", "list"),
              "sudo": ("create", "read", "update", "delete", "list", "sudo")}


@dataclass(frozen=True)
class PathRule:
    path: str  # as written: `secret/data/app/*`, `secret/+/config`
    capabilities: tuple[str, ...]


class PolicyUnreadable(ValueError):
    """A policy text that is too large, too deep, or neither HCL nor JSON; the message names why, never the text."""


def parse_policy(text: str) -> tuple[PathRule, ...]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise PolicyUnreadable(f"larger than {MAX_POLICY_BYTES // 1024} KiB")
    if _nesting(text) > MAX_NESTING:
        raise PolicyUnreadable(f"nested more than {MAX_NESTING} levels deep")
    stripped = text.lstrip()
    document = _json(stripped) if stripped.startswith("{") else _hcl(text)
    return tuple(_rules(document))


def _nesting(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "{[(":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}])":
            depth = max(depth - 1, 0)
    return deepest


def _json(text: str) -> object:
    try:
        return json_input.loads(text)
    except ValueError:
        raise PolicyUnreadable("not valid JSON") from None


def _hcl(text: str) -> object:
    import hcl2  # builds its grammar on first use: only when a policy is read

    try:
        return hcl2.loads(text)
    except Exception:  # lark's parse errors (hcl2's internals) and its transformer's on odd input alike
        raise PolicyUnreadable("not valid HCL") from None


def _rules(document: object):
    """`path` blocks from hcl2's shape (a list of one-key dicts, quoted keys and values) or JSON's (a dict)."""
    if not isinstance(document, dict):
        raise PolicyUnreadable("not a policy (no path blocks)")
    paths = document.get("path", {})
    blocks = paths if isinstance(paths, list) else [paths]
    for block in blocks:
        if not isinstance(block, dict):
            raise PolicyUnreadable("a path block that is not an object")
        for path, body in block.items():
            if isinstance(body, list) and len(body) == 1:  # JSON may give a path a list of one block
                body = body[0]
            if not isinstance(body, dict):
                raise PolicyUnreadable("a path block that is not an object")
            yield PathRule(_unquote(path), _capabilities(body))


def _capabilities(body: dict) -> tuple[str, ...]:
    listed = body.get("capabilities")
    if isinstance(listed, (list, tuple)):
        return tuple(sorted({_unquote(c).lower() for c in listed if isinstance(c, str)}))
    shorthand = body.get("policy")
    if isinstance(shorthand, str):
        return _SHORTHAND.get(_unquote(shorthand).lower(), ())
    return ()


def _unquote(text: str) -> str:
    # python-hcl2 keeps string literals' quotes (`"read"`), JSON does not
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text

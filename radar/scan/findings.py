"""The finding model: what was found where, without the secret itself.

A `Finding` never holds the secret value. It carries:

- a fingerprint, HMAC-SHA256 of the value under a key that is per installation (or configured,
  see `FingerprintKey`): equal secrets share it everywhere (other files, commits, projects), and
  without the key it cannot be reversed or brute-forced from a list of guesses;
- a redacted preview (`preview()`): the first 4 characters and `…` when the value is at least
  20 characters long, so at least 16 characters (80 %) stay hidden and the visible part is
  usually the provider's public prefix (`ghp_…`, `glpa…`); shorter values, whose every character
  matters for guessing, show only `[redacted]`;
- the name the value is assigned to (`DATABASE_PASSWORD=`, `"api_key": `), when the text says;
- the place (path, 1-based line and column of the first and last character, in characters of
  the decoded text) and `Origin` extras that other sources fill in (commit, author, date, blob,
  GitLab variable key, environment scope, project, group);
- tags (`test-fixture`, `lock-file`, `minified`, `placeholder-like`, `validated`,
  `validation-failed`, `decoded:base64`, ...) and the suppression state (`ignored`, with the
  reason);
- where Vault stores the same value (`in_vault`: namespace, mount, path, field, version and
  whether it is the latest), when the scan was given a Vault index (`radar.scan.vault_index`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from radar.errors import RadarError

PREVIEW_MIN_LENGTH = 20
PREVIEW_CHARS = 4
REDACTED = "[redacted]"
KEY_ENVIRONMENT = "RADAR_FINGERPRINT_KEY"
KEY_FILE_ENVIRONMENT = "RADAR_FINGERPRINT_KEY_FILE"
KEY_ID_LENGTH = 12
CONFIDENCE_RANK = {"high": 3, "medium": 2, "low": 1}  # higher is surer: de-duplication and history pick by it


@dataclass(frozen=True)
class Origin:
    """Where a text unit came from beyond its path: filled by git and GitLab sources."""

    commit: str | None = None
    author: str | None = None
    date: str | None = None
    blob: str | None = None
    variable_key: str | None = None
    environment_scope: str | None = None
    project: str | None = None
    group: str | None = None
    project_id: int | None = None  # GitLab's numeric ids: what a Vault JWT role binds to
    namespace_id: int | None = None

    def as_dict(self) -> dict[str, str | int]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Location:
    """One place a secret was committed: the path and line in the blob a commit introduced."""

    path: str
    line: int
    commit: str
    author: str
    date: str

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


@dataclass(frozen=True)
class History:
    """What a history scan adds to a finding: every location, and whether the default tip has it."""

    in_head: bool
    locations: tuple[Location, ...]


@dataclass(frozen=True, slots=True)  # slots: a loaded index holds one per place (memory per entry)
class VaultPlace:
    """Where Vault stores a finding's value, from a Vault index (`radar index vault`): the field of
    one version of a KV secret. `version` is KV v2's (None for KV v1, which keeps one); `latest`
    says it is the secret's current version, the one applications read."""

    namespace: str  # "" for the root namespace, else its path with a trailing "/"
    mount: str
    path: str
    field: str
    version: int | None
    latest: bool

    def as_dict(self) -> dict[str, str | int | bool | None]:
        return asdict(self)

    def label(self) -> str:
        """`team-a/ops/production/db#password v3 (latest)`: one line, for reports' cells and notes."""
        version = "" if self.version is None else f" v{self.version}"
        state = " (latest)" if self.latest else ""
        return f"{self.namespace}{self.mount}/{self.path}#{self.field}{version}{state}"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    secret_type: str
    description: str
    severity: str
    confidence: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    fingerprint: str
    preview: str
    tags: tuple[str, ...] = ()
    ignored: bool = False
    ignore_reason: str | None = None
    origin: Origin = field(default_factory=Origin)
    history: History | None = None
    remediation: str | None = None  # where the secret should move (GitLab findings)
    name: str | None = None  # the variable or key the value is assigned to, when the text says
    in_vault: tuple[VaultPlace, ...] = ()  # where Vault holds the same value (`--vault-index`), latest first

    def as_dict(self) -> dict:
        data = {
            "rule_id": self.rule_id,
            "secret_type": self.secret_type,
            "description": self.description,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "severity": self.severity,
            "confidence": self.confidence,
            "fingerprint": self.fingerprint,
            "preview": self.preview,
            "tags": list(self.tags),
            "ignored": self.ignored,
        }
        if self.ignore_reason:
            data["ignore_reason"] = self.ignore_reason
        if self.name:
            data["name"] = self.name
        data.update(self.origin.as_dict())
        if self.origin.variable_key is not None:
            data["key"] = self.origin.variable_key
        if self.remediation:
            data["remediation"] = self.remediation
        if self.history is not None:
            data["first_seen"] = {"commit": self.origin.commit, "author": self.origin.author, "date": self.origin.date}
            data["in_head"] = self.history.in_head
            data["locations"] = [location.as_dict() for location in self.history.locations]
        if self.in_vault:
            data["in_vault"] = [place.as_dict() for place in self.in_vault]
        return data

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.rule_id)


def preview(value: str) -> str:
    if len(value) >= PREVIEW_MIN_LENGTH:
        return value[:PREVIEW_CHARS] + "…"
    return REDACTED


class FingerprintKeyError(RadarError):
    pass


@dataclass(frozen=True)
class FingerprintKey:
    """The HMAC key behind fingerprints.

    Taken from $RADAR_FINGERPRINT_KEY (any text), else from the file $RADAR_FINGERPRINT_KEY_FILE
    (its content, surrounding whitespace trimmed: the same key as that text in
    $RADAR_FINGERPRINT_KEY), else from `$XDG_CONFIG_HOME/radar/fingerprint.key` (default
    `~/.config`), which is created with 32 random bytes and mode 0600 the first time.

    The key stays secret on purpose: a fingerprint of a short password made from public words
    could be brute-forced by anyone holding a report if the key were known or derivable (from a
    project's name, say). So fingerprints match across machines and CI jobs only when they are
    given the same key; `key_id` names a key without revealing it, so that a baseline made under
    another key is refused instead of reporting every finding as new. A CI job that has to create
    a fresh per-installation key gets a warning from `warnings()`: its fingerprints will match no
    other run.
    """

    key: bytes = field(repr=False)
    # Where the key came from, for messages: the variable's name, or the key file's path.
    source: str = "given"
    created: bool = False  # this run created the per-installation key file

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> FingerprintKey:
        environ = os.environ if environ is None else environ
        if environ.get(KEY_ENVIRONMENT):
            return cls(environ[KEY_ENVIRONMENT].encode("utf-8"), KEY_ENVIRONMENT)
        if environ.get(KEY_FILE_ENVIRONMENT):
            path = Path(environ[KEY_FILE_ENVIRONMENT])
            try:
                key = path.read_bytes().strip()
            except OSError as e:
                raise FingerprintKeyError(f"cannot read the fingerprint key {path}: {e.strerror}; "
                                          f"fix {KEY_FILE_ENVIRONMENT} or set {KEY_ENVIRONMENT}") from None
            if not key:  # an empty key would make fingerprints plain SHA-256 HMACs anyone can recompute
                raise FingerprintKeyError(f"the fingerprint key file {path} ({KEY_FILE_ENVIRONMENT}) is empty; "
                                          "put a long random key in it (openssl rand -hex 32)")
            return cls(key, f"{KEY_FILE_ENVIRONMENT} ({path})")
        config = Path(environ.get("XDG_CONFIG_HOME") or Path(environ.get("HOME", "~")).expanduser() / ".config")
        path = config / "radar" / "fingerprint.key"
        key, created = _installation_key(path)
        return cls(key, str(path), created)

    def fingerprint(self, value: str) -> str:
        return hmac.new(self.key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    @property
    def key_id(self) -> str:
        """12 hex digits naming this key (an HMAC under it, so they tell nothing about the key).

        The message starts with a byte UTF-8 never holds, so no value's fingerprint is the key id."""
        return hmac.new(self.key, b"\xffradar key id", hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]

    def warnings(self, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """What a user must hear about this key: a CI job that made a fresh one cannot be compared."""
        environ = os.environ if environ is None else environ
        if not (self.created and in_ci(environ)):
            return ()
        return (f"created a new fingerprint key in {self.source}: fingerprints of this CI job (baselines, SARIF "
                "partialFingerprints, GitLab vulnerability ids) will not match other runs; set "
                f"{KEY_ENVIRONMENT} (a masked CI/CD variable, e.g. from openssl rand -hex 32) or {KEY_FILE_ENVIRONMENT}",)


def in_ci(environ: Mapping[str, str]) -> bool:
    """Whether radar runs in a CI job: GitLab sets GITLAB_CI, and GitLab, GitHub and most others CI=true."""
    return bool(environ.get("GITLAB_CI")) or environ.get("CI", "").lower() in ("true", "1", "yes")


def _installation_key(path: Path) -> tuple[bytes, bool]:
    """The per-installation key in `path`, and whether this call created it."""
    try:
        return bytes.fromhex(path.read_text().strip()), False
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        raise FingerprintKeyError(
            f"cannot use the fingerprint key {path}: {getattr(e, 'strerror', None) or e}; "
            f"set {KEY_ENVIRONMENT} or {KEY_FILE_ENVIRONMENT}"
        ) from None
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.hex() + "\n")
    except FileExistsError:  # another radar created it first: use theirs
        return bytes.fromhex(path.read_text().strip()), False
    except OSError as e:
        raise FingerprintKeyError(
            f"cannot create the fingerprint key {path}: {e.strerror}; set {KEY_ENVIRONMENT} or {KEY_FILE_ENVIRONMENT}"
        ) from None
    return key, True


@dataclass(frozen=True)
class Candidate:
    """A finding before de-duplication, with its span in the unit's text (never leaves a worker)."""

    finding: Finding
    start: int
    end: int
    priority: int
    validated: bool


def dedupe(candidates: Iterable[Candidate]) -> list[Finding]:
    """One finding per secret at a place.

    Candidates whose spans overlap describe the same secret (a generic `DATABASE_URL=` and the
    password inside it, a token and the base64 blob it was decoded from): the most specific rule
    kind wins, then a validated match, then the higher confidence, then the longer span. Other
    candidates in the group survive only where they overlap no winner.
    """
    ordered = sorted(candidates, key=lambda c: (c.start, -c.end))
    groups: list[list[Candidate]] = []
    group_end = -1
    for c in ordered:
        if groups and c.start < group_end:
            groups[-1].append(c)
            group_end = max(group_end, c.end)
        else:
            groups.append([c])
            group_end = c.end
    winners = []
    for group in groups:
        kept: list[Candidate] = []
        for c in sorted(group, key=_rank, reverse=True):
            if all(c.end <= k.start or k.end <= c.start for k in kept):
                kept.append(c)
        winners.extend(k.finding for k in kept)
    return winners


def _rank(c: Candidate) -> tuple:
    return (c.priority, c.validated, CONFIDENCE_RANK[c.finding.confidence], c.end - c.start, c.finding.rule_id)


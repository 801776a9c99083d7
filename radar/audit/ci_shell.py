"""What one line of a CI job's script does with secrets: prints them, dumps the environment, traces
commands, talks to Vault without checking its certificate, or sends a GitLab token wherever a
redirect leads.

A reading, not a shell: a line is split into command lists (`;`, `&&`, `||`) and pipelines (`|`),
and each stage into words, with quotes dropped. It errs towards silence: output piped into
another command (`echo "$TOKEN" | docker login --password-stdin`) or redirected to a file is not
printed; a command split over lines with `\\`, a secret passed through another variable or a
function, and output piped through a command that prints it again (`| base64`) are not seen.
Every function takes linear time in the line's length.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_LISTS = re.compile(r"&&|\|\||;")
_PIPE = re.compile(r"(?<!\|)\|(?!\|)")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
# A redirect of standard output: `>`, `>>`, `1>`, `&>`; not `2>` (errors) nor `>&2` (still the log).
_REDIRECT = re.compile(r"(\d?)(&?>>?)(&?)")
# Short options, one dash and letters (`-sSk`, `-eux`), tested for a letter with `in`: an
# expression such as `-[A-Za-z]*x[A-Za-z]*` backtracks quadratically over a long word without it.
_SHORT_OPTIONS = re.compile(r"-[A-Za-z]+")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh"})
_TLS_SKIP = frozenset({"-tls-skip-verify", "--tls-skip-verify", "-tls-skip-verify=true", "--tls-skip-verify=true"})
_TOWARDS_VAULT = re.compile(r"\$\{?VAULT_(?:ADDR|SERVER_URL)\b|/v1/")
# curl as the command, or as the command of a substitution: `status=$(curl ...`, `` `curl ``.
_CURL_SUBSTITUTED = re.compile(r"(?:\$\(|`)curl$")
_GITLAB_TOKEN_HEADER = re.compile(r"^(?:PRIVATE|JOB)-TOKEN:", re.IGNORECASE)


@dataclass(frozen=True)
class _Stage:
    words: tuple[str, ...]
    text: str
    to_log: bool  # what it writes reaches the job log: the pipeline's last stage, not redirected


@functools.lru_cache(maxsize=4)  # the four readings of one line split it once
def _stages(line: str) -> tuple[_Stage, ...]:
    stages = []
    for command in _LISTS.split(line):
        parts = _PIPE.split(command)
        for n, part in enumerate(parts):
            words = tuple(w.strip("'\"") for w in part.split())
            stages.append(_Stage(words, part, n == len(parts) - 1 and not _to_file(part)))
    return tuple(stages)


def _has_option(words: tuple[str, ...], letter: str, *long: str) -> bool:
    """Whether `words` hold the short option `letter`, alone or among others (`-sSk`), or one of `long`."""
    return any(w in long or (letter in w and _SHORT_OPTIONS.fullmatch(w)) for w in words)


def _to_file(text: str) -> bool:
    return any(fd in ("", "1") and not dup for fd, _, dup in _REDIRECT.findall(text))


def _variables(text: str) -> set[str]:
    return set(_VARIABLE.findall(text))


def printed_secrets(line: str, variables: frozenset[str], files: frozenset[str]) -> list[str]:
    """The secrets the line writes to the log: `echo`/`printf` of a variable secret, `cat` of a
    file secret (whose variable holds the file's path)."""
    found: list[str] = []
    for stage in _stages(line):
        if not stage.words or not stage.to_log:
            continue
        command = stage.words[0]
        named = _variables(stage.text)
        if command in ("echo", "printf"):
            found += sorted(named & variables)
        elif command in ("cat", "more", "less", "head", "tail"):
            found += sorted(named & files)
    return found


def dumps_environment(line: str, secrets: frozenset[str]) -> str | None:
    """`env` or `printenv` when the line prints every variable (or a secret one), else None."""
    if _to_file(line):
        return None
    for stage in _stages(line):
        words = stage.words
        if not words:
            continue
        if words == ("env",) or (words[0] == "printenv" and (len(words) == 1 or secrets & set(words[1:]))):
            return words[0]
        if words[0] == "export" and words[1:] == ("-p",):
            return "export -p"
    return None


def traces_commands(line: str) -> str | None:
    """`set -x` (or `-o xtrace`) or a shell started with `-x`: every command is printed with its
    variables expanded, secrets included."""
    for stage in _stages(line):
        words = stage.words
        if not words:
            continue
        if words[0] == "set" or words[0] in _SHELLS:
            options = words[1:]
            if _has_option(options, "x") or (
                    words[0] == "set" and any(a == "-o" and b == "xtrace" for a, b in zip(options, options[1:]))):
                return f"{words[0]} -x"
    return None


def unverified_vault_tls(line: str) -> str | None:
    """`curl -k`/`--insecure`, `wget --no-check-certificate` towards Vault (`$VAULT_ADDR`, or a URL
    with Vault's `/v1/` API prefix), or the Vault CLI's `-tls-skip-verify`."""
    for stage in _stages(line):
        words = stage.words
        if not words:
            continue
        towards_vault = bool(_TOWARDS_VAULT.search(stage.text))
        if words[0] == "curl" and towards_vault and _has_option(words[1:], "k", "--insecure"):
            return "curl --insecure"
        if words[0] == "wget" and towards_vault and "--no-check-certificate" in words[1:]:
            return "wget --no-check-certificate"
        if words[0] in ("vault", "bao") and any(w in _TLS_SKIP for w in words[1:]):
            return f"{words[0]} -tls-skip-verify"
    return None


def token_sent_on_redirect(line: str) -> str | None:
    """`curl --location` (`-L`, also among short options: `-fsSL`; or `--location-trusted`) with a
    GitLab token header (`PRIVATE-TOKEN:`, `JOB-TOKEN:`), given as `-H VALUE`, `--header VALUE` or
    `-HVALUE`. curl sends a header it is given to every host a redirect leads to (it spares only
    `Authorization` and `Cookie`), and GitLab redirects artifact downloads to object storage."""
    for stage in _stages(line):
        words = stage.words
        start = 0 if words[:1] == ("curl",) else next(
            (n for n, w in enumerate(words) if _CURL_SUBSTITUTED.search(w)), None)
        if start is None:
            continue
        options = words[start + 1:]
        headers = [value for flag, value in zip(options, options[1:]) if flag in ("-H", "--header")]
        headers += [w[2:].lstrip("'\"") for w in options if w.startswith("-H") and len(w) > 2]
        if _has_option(options, "L", "--location", "--location-trusted") and any(
                map(_GITLAB_TOKEN_HEADER.match, headers)):
            return "curl --location"
    return None

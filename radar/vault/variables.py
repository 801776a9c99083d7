"""Variable precedence and `$VAR` / `${VAR}` expansion, as GitLab applies them.

Precedence (highest first): the process environment, job `variables:`, top-level
`variables:`. In a real job the runner has already exported every variable (and project,
group and instance variables outrank YAML ones in GitLab), so the environment wins; locally it
lets a user override what the YAML says.

Expansion follows GitLab Runner (Go's `os.Expand`): `$NAME` and `${NAME}` are replaced by the
variable's value, unknown names by the empty string, and `$$` by a literal `$`. YAML variables
are expanded recursively (a reference cycle is an error, as in GitLab); `expand: false`
variables and values taken from the environment are used as they are.

An expanded value may hold at most MAX_EXPANDED_LENGTH characters: nine variables that each
name the next ten times would otherwise expand to a billion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from radar.vault.errors import VaultConfigError
from radar.vault.model import Variable

_REFERENCE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
# Far beyond a real value: Linux refuses an environment string over 128 KiB anyway.
MAX_EXPANDED_LENGTH = 1024 * 1024


class JobVariables:
    """The variables a job sees, looked up by name and expanded on demand."""

    def __init__(self, yaml_variables: Iterable[Variable], environ: Mapping[str, str]) -> None:
        self._yaml = {v.name: v for v in yaml_variables}
        self._environ = environ
        self._expanded: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        """The final value of `name`, or None when no source defines it."""
        if name in self._environ:
            return self._environ[name]
        if name not in self._yaml:
            return None
        return self._expand_variable(name, ())

    def expand(self, text: str) -> str:
        """`text` with every `$NAME`, `${NAME}` and `$$` replaced."""
        return self._expand(text, ())

    def yaml_names(self) -> tuple[str, ...]:
        return tuple(self._yaml)

    def _expand_variable(self, name: str, chain: tuple[str, ...]) -> str:
        if name in self._expanded:
            return self._expanded[name]
        if name in chain:
            cycle = " -> ".join((*chain, name))
            raise VaultConfigError(f"circular variable reference: {cycle}")
        variable = self._yaml[name]
        value = self._expand(variable.value, (*chain, name)) if variable.expand else variable.value
        self._expanded[name] = value
        return value

    def _expand(self, text: str, chain: tuple[str, ...]) -> str:
        produced = len(text)

        def substitute(match: re.Match[str]) -> str:
            nonlocal produced
            if match.group(1):
                return "$"
            name = match.group(2) or match.group(3)
            value = ""
            if name in self._environ:
                value = self._environ[name]
            elif name in self._yaml:
                value = self._expand_variable(name, chain)
            produced += len(value)
            if produced > MAX_EXPANDED_LENGTH:
                what = f"variable {chain[-1]}" if chain else "a secret's path or field"
                raise VaultConfigError(
                    f"{what} expands to more than {MAX_EXPANDED_LENGTH} characters; do variables "
                    f"refer to each other over and over?"
                )
            return value

        return _REFERENCE.sub(substitute, text)

"""Variable precedence and `$VAR` / `${VAR}` expansion, as GitLab applies them.

Precedence (highest first): the process environment, job `variables:`, top-level
`variables:`. In a real job the runner has already exported every variable (and project,
group and instance variables outrank YAML ones in GitLab), so the environment wins; locally it
lets a user override what the YAML says.

Expansion follows GitLab Runner (Go's `os.Expand`): `$NAME` and `${NAME}` are replaced by the
variable's value, unknown names by the empty string, and `$$` by a literal `$`. YAML variables
are expanded recursively (a reference cycle is an error, as in GitLab); `expand: false`
variables and values taken from the environment are used as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from radar.vault.errors import VaultConfigError
from radar.vault.model import Variable

_REFERENCE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


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
        def substitute(match: re.Match[str]) -> str:
            if match.group(1):
                return "$"
            name = match.group(2) or match.group(3)
            if name in self._environ:
                return self._environ[name]
            if name in self._yaml:
                return self._expand_variable(name, chain)
            return ""

        return _REFERENCE.sub(substitute, text)

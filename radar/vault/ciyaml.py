"""Read one job's `secrets`, `id_tokens` and `variables` from a GitLab CI YAML file.

Resolved the way GitLab resolves them, in GitLab's order:

1. `!reference [job, key, ...]` tags are replaced by the referenced value of the raw file
   (references inside the referenced value are resolved too, at most 10 levels deep).
2. `extends:` (a name or a list, hidden or visible jobs, several levels, at most 11): the
   parents are merged in order and the job on top; hashes merge key by key, every other value
   (arrays included) is replaced whole.
3. `default:` fills what the job still lacks. Of the keywords radar uses, only `id_tokens`
   has a default in GitLab (16.4+); `secrets` is a job-only keyword and is never inherited
   from `default:`. `inherit:default` (true, false or a list of keywords) is honoured.
4. Top-level `variables:` are inherited unless `inherit:variables` says otherwise, and job
   `variables:` override them.

`include:` is not followed: a job defined in an included file is reported as missing.

Every expansion is bounded, so a hostile file costs little time and memory: YAML aliases (a
"billion laughs" file of nine levels of ten aliases each would expand to a billion values),
`!reference` and `extends:`. Before anything is built, one pass over the parser's events
counts what the aliases would expand to, and refuses more than MAX_VALUES values, nesting
deeper than MAX_DEPTH, or an alias inside its own anchor; the same limits then hold for what
`!reference` brings in, and for the merges of `extends:`. The limits are GitLab's or beyond:
GitLab refuses a configuration over 2 MB in memory (`max_yaml_size_bytes`, about 400 KB of
YAML) or nested more than 150 levels (`max_yaml_depth`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from radar.vault.errors import CIYamlError
from radar.vault.model import JobDefinition, Variable

MAX_REFERENCE_DEPTH = 10
MAX_EXTENDS_DEPTH = 11
# Values (scalars, sequences, mappings, keys) in the file once aliases, !reference and the
# merges of extends: are expanded: far more than GitLab's default limit admits.
MAX_VALUES = 500_000
MAX_DEPTH = 150  # GitLab's default max_yaml_depth

# Top-level keys that are not jobs.
GLOBAL_KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "spec",
     "image", "services", "cache", "before_script", "after_script"}
)

SECRETS_FILE_KEYS = ("secrets", "id_tokens", "variables")


@dataclass(frozen=True)
class _Reference:
    """An unresolved `!reference [a, b, ...]` and where it was written."""

    path: tuple[str, ...]
    line: int


class _CILoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when built in: faster
    """SafeLoader that also knows GitLab's `!reference` tag."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML's constructors let Python's own errors through for some values (`2001-02-30`
        # as a date, `!!int 0x`): make them YAML errors that name the place. Python's message
        # is left out, as it may quote the value.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value ({type(exc).__name__})", node.start_mark
            ) from None


class _TooLarge(yaml.MarkedYAMLError):
    """The file would expand beyond MAX_VALUES or MAX_DEPTH, or an alias repeats for ever."""

    def __init__(self, problem: str, mark: yaml.Mark) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def _construct_reference(loader: _CILoader, node: yaml.Node) -> _Reference:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.SequenceNode):
        raise CIYamlError(f"line {line}: !reference needs a list such as [.job, key]")
    parts = loader.construct_sequence(node, deep=True)
    if not parts or not all(isinstance(p, (str, int)) for p in parts):
        raise CIYamlError(f"line {line}: !reference needs a list of names such as [.job, key]")
    return _Reference(tuple(str(p) for p in parts), line)


_CILoader.add_constructor("!reference", _construct_reference)


def load_ci_file(path: str) -> dict[str, Any]:
    """Parse a CI YAML file with `!reference` tags resolved; errors name the file and line."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise CIYamlError(
            f"{path}: no such file; pass --ci-file PATH or run from the repository root"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CIYamlError(f"{path}: cannot read: {exc}") from None
    return parse_ci_text(text, path)


def parse_ci_text(text: str, path: str) -> dict[str, Any]:
    """`load_ci_file` of text already read (a CI file fetched from GitLab); `path` names it in errors."""
    return resolve_references(parse_ci_unresolved(text, path), path)


def parse_ci_unresolved(text: str, path: str) -> dict[str, Any]:
    """`parse_ci_text` with its `!reference` tags left in place, for a configuration made of several
    files (local `include:`s), whose references may point into another file: merge the files'
    top-level mappings first, then `resolve_references` the result."""
    try:
        _check_expansion(text)
        documents = [d for d in yaml.load_all(text, Loader=_CILoader) if d is not None]
    except yaml.MarkedYAMLError as exc:
        # problem/context only: str(exc) would quote the offending lines, which may hold values.
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        raise CIYamlError(f"{where}: malformed YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise CIYamlError(f"{path}: malformed YAML: {type(exc).__name__}") from None
    except CIYamlError as exc:
        raise CIYamlError(f"{path}: {exc}") from None
    # A header document (`spec: inputs:`) may precede the configuration, separated by `---`.
    if len(documents) == 2 and isinstance(documents[0], dict) and "spec" in documents[0]:
        documents = documents[1:]
    if not documents:
        raise CIYamlError(f"{path}: the file is empty")
    if len(documents) > 1:
        raise CIYamlError(f"{path}: holds {len(documents)} YAML documents; expected one")
    doc = documents[0]
    if not isinstance(doc, dict):
        raise CIYamlError(f"{path}: the top level must be a mapping of keywords and jobs")
    return doc


def resolve_references(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """`doc` with its `!reference` tags replaced by what they point at, within the file limits."""
    try:
        return _References(doc).resolve(doc, 0, 0, None)
    except CIYamlError as exc:
        raise CIYamlError(f"{path}: {exc}") from None


def _check_expansion(text: str) -> None:
    """Raise _TooLarge, at the event where it happens, if loading `text` would build more than
    MAX_VALUES values or nest deeper than MAX_DEPTH, counting each alias as what it repeats.

    One pass over the parser's events, before the composer or constructor runs: an anchor's
    size and height are known when its node ends, so an alias adds them in constant time.
    Scalars, most of any file, take the shortest path: the pass costs little more than
    libyaml's parsing alone, about a tenth of a load (benchmarks/RESULTS.md).
    """
    values = 0
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, height) of its finished node
    # The collections still open: [anchor, values before it began, height of its tallest child].
    open_nodes: list[list[Any]] = []
    for event in yaml.parse(text, Loader=_CILoader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            values += 1
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            if values > MAX_VALUES:
                raise _too_many(event)
            continue
        if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            values += 1
            open_nodes.append([event.anchor, values - 1, 0])
            if len(open_nodes) > MAX_DEPTH:
                raise _too_deep(event)
            if values > MAX_VALUES:
                raise _too_many(event)
            continue
        if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            anchor, before, tallest = open_nodes.pop()
            height = tallest + 1
            if anchor is not None:
                anchors[anchor] = (values - before, height)
        elif kind is yaml.AliasEvent:
            if any(node[0] == event.anchor for node in open_nodes):
                raise _TooLarge(f"the alias *{event.anchor} is inside its own anchor, so it repeats for ever",
                                event.start_mark)
            if event.anchor not in anchors:
                continue  # an undefined alias: the composer reports it
            size, height = anchors[event.anchor]
            values += size
            if values > MAX_VALUES:
                raise _too_many(event)
            if len(open_nodes) + height > MAX_DEPTH:
                raise _too_deep(event)
        elif kind is yaml.DocumentStartEvent:
            anchors.clear()  # anchors belong to one document
            continue
        else:
            continue
        if open_nodes and open_nodes[-1][2] < height:
            open_nodes[-1][2] = height


def _too_many(event: yaml.Event) -> _TooLarge:
    return _TooLarge(f"with its aliases expanded the file holds more than {MAX_VALUES} values; radar "
                     f"(like GitLab) refuses a configuration that large", event.start_mark)


def _too_deep(event: yaml.Event) -> _TooLarge:
    return _TooLarge(f"nested more than {MAX_DEPTH} levels deep (GitLab's limit)", event.start_mark)


class _References:
    """`!reference` tags replaced by what they point at, within MAX_VALUES and MAX_DEPTH.

    The result is a tree, however often the file's aliases share a value; `left` counts the
    values it may still hold, so a chain of references that multiplies a value is refused as
    soon as the total passes MAX_VALUES, instead of being built first.
    """

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.left = MAX_VALUES

    def resolve(self, value: Any, refs: int, depth: int, line: int | None) -> Any:
        """`value` with references resolved; `refs` references were followed to reach it, it
        sits `depth` collections deep, and `line` is the reference that brought it in."""
        if isinstance(value, _Reference):
            if refs >= MAX_REFERENCE_DEPTH:
                raise CIYamlError(
                    f"line {value.line}: !reference nested more than {MAX_REFERENCE_DEPTH} levels deep"
                )
            return self.resolve(_follow(value, self.doc), refs + 1, depth, line or value.line)
        self.left -= 1
        if self.left < 0:
            where = f"line {line}: " if line else ""
            raise CIYamlError(f"{where}!reference expands the file to more than {MAX_VALUES} values")
        if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
            where = f"line {line}: " if line else ""
            raise CIYamlError(f"{where}!reference nests values more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            self.left -= len(value)  # the keys
            return {k: self.resolve(v, refs, depth + 1, line) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, refs, depth + 1, line) for v in value]
        return value


def _follow(ref: _Reference, doc: dict[str, Any]) -> Any:
    node: Any = doc
    for i, key in enumerate(ref.path):
        if not isinstance(node, dict) or key not in node:
            shown = ", ".join(ref.path)
            missing = ", ".join(ref.path[: i + 1])
            raise CIYamlError(f"line {ref.line}: !reference [{shown}] could not be found ([{missing}] is missing)")
        node = node[key]
    return node


def runnable_jobs(doc: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every job GitLab would run (not hidden `.templates`, not global keywords), in file order,
    with its configuration's `extends:` merged in (not `default:` nor top-level `variables:`).

    One merge of `extends:` serves every job, so a file of many jobs extending the same chain
    costs the chain once, not once per job."""
    resolver = _Extends(doc, path)
    for name, value in doc.items():
        if not isinstance(name, str) or name in GLOBAL_KEYWORDS or name.startswith(".") or not isinstance(value, dict):
            continue
        yield name, resolver.job(name)


def variables_of(raw: Any, what: str, path: str) -> tuple[Variable, ...]:
    """A `variables:` mapping (`what` names it in errors) read as `Variable`s; None is empty."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise CIYamlError(f"{path}: {what} must be a mapping")
    return tuple(_variable(str(name), value, path) for name, value in raw.items())


def inherited_scripts(doc: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A job's `before_script`, `script` and `after_script` (from its configuration with `extends:`
    merged in): `before_script` and `after_script` it lacks come from `default:` (or the
    deprecated top-level keywords) unless `inherit:default` leaves them out, as GitLab does."""
    inherit = config.get("inherit") or {}
    default = doc.get("default") if isinstance(doc.get("default"), dict) else {}
    scripts = {}
    for key in ("before_script", "script", "after_script"):
        if key in config:
            scripts[key] = config[key]
        elif key != "script" and isinstance(inherit, dict) and _inherits(inherit, "default", key):
            if key in default:
                scripts[key] = default[key]
            elif key in doc:
                scripts[key] = doc[key]
    return scripts


def default_id_tokens(doc: dict[str, Any], config: dict[str, Any]) -> Any:
    """The `id_tokens` a job lacking its own takes from `default:` (GitLab 16.4+), unless its
    `inherit:default` leaves them out; None when there are none to take."""
    inherit = config.get("inherit") or {}
    default = doc.get("default") or {}
    if not isinstance(inherit, dict) or not isinstance(default, dict) or "id_tokens" not in default:
        return None
    return default["id_tokens"] if _inherits(inherit, "default", "id_tokens") else None


def job_definition(doc: dict[str, Any], job: str, path: str) -> JobDefinition:
    """The resolved `secrets`, `id_tokens` and `variables` of `job` in a loaded CI file."""
    if job not in doc:
        hint = " (radar does not follow include:; is it defined in an included file?)" if "include" in doc else ""
        raise CIYamlError(f"{path}: no job named {job!r}{hint}")
    if job in GLOBAL_KEYWORDS:
        raise CIYamlError(f"{path}: {job!r} is a global keyword, not a job")
    if job.startswith("."):
        raise CIYamlError(f"{path}: {job!r} is a hidden job (its name starts with a dot); GitLab never runs it")
    config = _Extends(doc, path).job(job)
    inherit = config.get("inherit") or {}
    if not isinstance(inherit, dict):
        raise CIYamlError(f"{path}: job {job!r}: inherit: must be a mapping")

    default = doc.get("default") or {}
    if not isinstance(default, dict):
        raise CIYamlError(f"{path}: default: must be a mapping")
    if "id_tokens" not in config:
        inherited = default_id_tokens(doc, config)
        if inherited is not None:
            config["id_tokens"] = inherited

    global_vars = doc.get("variables") or {}
    if not isinstance(global_vars, dict):
        raise CIYamlError(f"{path}: variables: must be a mapping")
    variables: dict[str, Variable] = {}
    for name, raw in global_vars.items():
        if _inherits(inherit, "variables", str(name)):
            variables[str(name)] = _variable(str(name), raw, path)
    # `or None`: an empty value of any type (`variables: []`) is no variables, as it always was here.
    job_vars = variables_of(config.get("variables") or None, f"job {job!r}: variables:", path)
    variables.update((variable.name, variable) for variable in job_vars)

    origin = f"job {job} in {path}"
    return JobDefinition(
        origin=origin,
        secrets=_mapping(config.get("secrets"), f"{origin}: secrets:"),
        id_tokens=tuple(_mapping(config.get("id_tokens"), f"{origin}: id_tokens:")),
        variables=tuple(variables.values()),
    )


def secrets_file_definition(doc: dict[str, Any], path: str) -> JobDefinition:
    """A `--secrets-file`: `secrets:` (required), `id_tokens:` and `variables:` (optional)."""
    unknown = sorted(str(k) for k in doc if k not in SECRETS_FILE_KEYS)
    if unknown:
        raise CIYamlError(
            f"{path}: unexpected key(s) {', '.join(unknown)}; a secrets file holds only "
            f"{', '.join(SECRETS_FILE_KEYS)}"
        )
    if "secrets" not in doc:
        raise CIYamlError(f"{path}: no secrets: mapping")
    origin = f"secrets file {path}"
    raw_vars = _mapping(doc.get("variables"), f"{origin}: variables:")
    return JobDefinition(
        origin=origin,
        secrets=_mapping(doc.get("secrets"), f"{origin}: secrets:"),
        id_tokens=tuple(_mapping(doc.get("id_tokens"), f"{origin}: id_tokens:")),
        variables=tuple(_variable(str(k), v, path) for k, v in raw_vars.items()),
    )


class _Extends:
    """Jobs with their `extends:` parents merged in, as GitLab merges them.

    Each job is merged once however many jobs extend it (a diamond of eleven levels would
    otherwise be merged 2^11 times), and `left` counts the keys merging may still copy, so a
    long list of large parents is refused instead of merged for minutes.
    """

    def __init__(self, doc: dict[str, Any], path: str) -> None:
        self.doc = doc
        self.path = path
        self.left = MAX_VALUES
        # name -> (its merged configuration, the length of its longest chain of parents)
        self.merged: dict[str, tuple[dict[str, Any], int]] = {}

    def job(self, name: str, chain: tuple[str, ...] = ()) -> dict[str, Any]:
        """`name`'s configuration with its parents merged in; `chain`: the jobs extending it."""
        if name in chain:
            cycle = " -> ".join((*chain, name))
            raise CIYamlError(f"{self.path}: circular extends: {cycle}")
        if len(chain) > MAX_EXTENDS_DEPTH:
            raise CIYamlError(f"{self.path}: extends: nested more than {MAX_EXTENDS_DEPTH} levels deep at {name!r}")
        known = self.merged.get(name)
        if known is None or len(chain) + known[1] > MAX_EXTENDS_DEPTH:
            # Merged afresh when this chain is too long for it, to name the job where it is.
            known = self.merged[name] = self._merged(name, chain)
        return known[0]

    def _merged(self, name: str, chain: tuple[str, ...]) -> tuple[dict[str, Any], int]:
        config = self.doc.get(name)
        if not isinstance(config, dict):
            if chain:
                raise CIYamlError(f"{self.path}: job {chain[-1]!r} extends {name!r}, which is not defined as a mapping")
            raise CIYamlError(f"{self.path}: job {name!r} must be a mapping")
        parents = config.get("extends")
        if parents is None:
            return dict(config), 0
        if isinstance(parents, str):
            parents = [parents]
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise CIYamlError(f"{self.path}: job {name!r}: extends: must be a name or a list of names")
        merged: dict[str, Any] = {}
        height = 0
        for parent in parents:
            if parent not in self.doc:
                raise CIYamlError(f"{self.path}: job {name!r} extends unknown job {parent!r}")
            merged = self._merge(merged, self.job(parent, (*chain, name)), name)
            height = max(height, self.merged[parent][1] + 1)
        own = {k: v for k, v in config.items() if k != "extends"}
        return self._merge(merged, own, name), height

    def _merge(self, base: dict[str, Any], top: dict[str, Any], name: str) -> dict[str, Any]:
        """Hashes merged key by key, every other value (arrays included) replaced whole."""
        self.left -= len(base) + len(top)
        if self.left < 0:
            raise CIYamlError(f"{self.path}: job {name!r}: extends: merges more than {MAX_VALUES} values")
        merged = dict(base)
        for key, value in top.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = self._merge(merged[key], value, name)
            else:
                merged[key] = value
        return merged


def _inherits(inherit: dict[str, Any], kind: str, key: str) -> bool:
    """GitLab's `inherit:default` / `inherit:variables`: true, false or a list of names."""
    setting = inherit.get(kind, True)
    if isinstance(setting, bool):
        return setting
    if isinstance(setting, list):
        return key in setting
    raise CIYamlError(f"inherit:{kind} must be true, false or a list")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CIYamlError(f"{what} must be a mapping")
    return {str(k): v for k, v in value.items()}


def _variable(name: str, raw: Any, path: str) -> Variable:
    """A YAML variable: a scalar, or `{value, expand, description, options}`."""
    expand = True
    if isinstance(raw, dict):
        expand = raw.get("expand", True)
        if not isinstance(expand, bool):
            raise CIYamlError(f"{path}: variable {name}: expand: must be true or false")
        raw = raw.get("value", "")
    if raw is None:
        value = ""
    elif isinstance(raw, bool):
        value = "true" if raw else "false"
    elif isinstance(raw, (str, int, float)):
        value = str(raw)
    else:
        raise CIYamlError(f"{path}: variable {name} must be a string or a number")
    return Variable(name=name, value=value, expand=expand)


def default_ci_file(environ: Mapping[str, str]) -> str:
    """`$CI_CONFIG_PATH` when set (GitLab's custom CI file location), else `.gitlab-ci.yml`."""
    return environ.get("CI_CONFIG_PATH") or ".gitlab-ci.yml"

"""Checking a document against a JSON Schema radar publishes (`findings.schema.json`), so that
`radar plan` refuses what the schema refuses and says where, first offending field first.

A small validator of our own, driven by the schema, rather than the jsonschema package: it
checked a 10,000-finding report in 4.2 s (plus 0.26 s to import) where this takes ~0.1 s, and it
walks the document in order, so the error it reports is the first one in the file. It knows the
keywords radar's schemas use: `type`, `enum`, `required`, `properties`, `additionalProperties`
(false or a schema), `items`, `minItems`, `minimum`, `minLength`, `pattern`, `dependentRequired`,
`$ref` to `#/$defs/...`, and the annotations (`$schema`, `$id`, `title`, `description`). A schema
with any other keyword is refused when compiled (a test compiles every schema radar ships), so
no rule can be silently ignored.

Messages name the place (`findings[3].severity`) and what is expected there, never the value
found, which could be anything a wrong file holds (a key file's secret, say).
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], None]

_ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
_KEYWORDS = {"type", "enum", "required", "properties", "additionalProperties", "items", "minItems", "minimum",
             "minLength", "pattern", "dependentRequired", "$ref"} | _ANNOTATIONS
_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
                                       "number": (int, float), "boolean": (bool,), "null": (type(None),)}
_TYPE_NAMES = {"object": "an object", "array": "a list", "string": "a string", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "null"}
# An unexpected key is named only when it reads like one of radar's keys: a wrong file's key
# could be anything, a credential included.
_KEY_LIKE = re.compile(r"[a-z_]{1,32}")


class SchemaViolation(ValueError):
    """Where the document breaks the schema (`location`, e.g. `findings[3].severity`, or "" for
    the document itself) and what is expected there."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected
        self._segments: list[str | int] = []  # innermost first, added as the violation rises

    @property
    def path(self) -> list[str | int]:
        """The keys and indexes from the document down to the place, as jsonschema's absolute_path."""
        return self._segments[::-1]

    @property
    def location(self) -> str:
        """The path as `findings[3].severity`; a key that is not like radar's is shown as `<key>`."""
        text = ""
        for segment in self.path:
            if isinstance(segment, int):
                text += f"[{segment}]"
            else:
                name = segment if _KEY_LIKE.fullmatch(segment) else "<key>"
                text += f".{name}" if text else name
        return text

    def __str__(self) -> str:
        return f"{self.location or 'the document'} {self.expected}"


class SchemaError(Exception):
    """The schema uses something this validator does not know (a bug in radar, not in the input)."""


def compile_schema(schema: dict) -> Check:
    """A function that returns for a document the schema accepts, and raises SchemaViolation for
    the first place, in document order, that it does not."""
    definitions = schema.get("$defs", {})
    compiled: dict[str, Check] = {}

    def reference(ref: str) -> Check:
        name = ref.removeprefix("#/$defs/")
        if name == ref or name not in definitions:
            raise SchemaError(f"unsupported $ref {ref!r}: only #/$defs/NAME")
        if name not in compiled:
            compiled[name] = lambda value: compiled[name](value)  # a placeholder while compiling itself
            compiled[name] = build(definitions[name])
        return compiled[name]

    def build(node: dict) -> Check:
        unknown = set(node) - _KEYWORDS
        if unknown:
            raise SchemaError(f"unsupported schema keyword(s): {', '.join(sorted(unknown))}")
        if set(node) - _ANNOTATIONS == {"$ref"}:
            return reference(node["$ref"])
        # One closure per schema node, every keyword checked inline: a report of 10,000 findings
        # is ~200,000 values to check, and a call per keyword doubled the time.
        ref = reference(node["$ref"]) if "$ref" in node else None
        types = _types(node["type"]) if "type" in node else None
        wanted_type = " or ".join(_TYPE_NAMES[n] for n in _names(node["type"])) if types else ""
        enum = {(type(o), o) for o in node["enum"]} if "enum" in node else None
        wanted_enum = ", ".join(str(o) for o in node.get("enum", ()))
        minimum = node.get("minimum")
        min_length = node.get("minLength")
        pattern = re.compile(node["pattern"]).search if "pattern" in node else None  # unanchored, as JSON Schema
        items = build(node["items"]) if "items" in node else None
        min_items = node.get("minItems", 0)
        is_object = bool({"properties", "additionalProperties", "required", "dependentRequired"} & set(node))
        properties = {key: build(sub) for key, sub in node.get("properties", {}).items()}
        additional = node.get("additionalProperties", True)
        if isinstance(additional, dict):
            additional = build(additional)
        required = tuple(node.get("required", ()))
        required_set = frozenset(required)
        dependent = node.get("dependentRequired", {})

        def check(value: Any) -> None:
            if ref is not None:
                ref(value)
            if types is not None and not _is(value, types):
                raise SchemaViolation(f"must be {wanted_type}, not {_json_type(value)}")
            if enum is not None and (isinstance(value, (dict, list)) or (type(value), value) not in enum):
                raise SchemaViolation(f"must be one of {wanted_enum}")
            if isinstance(value, str):
                if min_length is not None and len(value) < min_length:
                    raise SchemaViolation("must not be empty" if min_length == 1 else
                                          f"must be at least {min_length} characters long")
                if pattern is not None and not pattern(value):
                    raise SchemaViolation(f"must match {node['pattern']}")
            elif minimum is not None and isinstance(value, (int, float)) and not isinstance(value, bool) \
                    and value < minimum:
                raise SchemaViolation(f"must be at least {minimum}")
            elif isinstance(value, list):
                if len(value) < min_items:
                    raise SchemaViolation(f"must have at least {min_items} item(s)")
                if items is not None:
                    for index, item in enumerate(value):
                        try:
                            items(item)
                        except SchemaViolation as violation:
                            violation._segments.append(index)
                            raise
            elif is_object and isinstance(value, dict):
                _check_object(value, properties, additional, required, required_set, dependent)

        return check

    return build(schema)


def _names(expected: str | list[str]) -> list[str]:
    names = [expected] if isinstance(expected, str) else list(expected)
    unknown = [n for n in names if n not in _TYPES]
    if unknown:
        raise SchemaError(f"unsupported type(s): {', '.join(unknown)}")
    return names


def _types(expected: str | list[str]) -> tuple[type, ...]:
    return tuple(t for n in _names(expected) for t in _TYPES[n])


def _is(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # a subclass of int, but JSON's true and false are not numbers
        return bool in types
    if type(value) is float and int in types and float not in types:
        return value.is_integer()  # JSON Schema: 1.0 is an integer
    return isinstance(value, types)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def _check_object(value: dict, properties: dict[str, Check], additional: bool | Check, required: tuple[str, ...],
                  required_set: frozenset[str], dependent: dict[str, list[str]]) -> None:
    for key, item in value.items():
        sub = properties.get(key)
        if sub is None:
            if additional is False:
                raise SchemaViolation(f"has an unexpected key {key}" if _KEY_LIKE.fullmatch(key) else
                                      "has an unexpected key (not shown: it is not a field name)")
            if additional is True:
                continue
            sub = additional
        try:
            sub(item)
        except SchemaViolation as violation:
            violation._segments.append(key)
            raise
    if not required_set <= value.keys():
        raise SchemaViolation(f"lacks {', '.join(k for k in required if k not in value)}")
    for key, needed in dependent.items():
        if key in value:
            missing = [k for k in needed if k not in value]
            if missing:
                raise SchemaViolation(f"has {key} but lacks {', '.join(missing)}")

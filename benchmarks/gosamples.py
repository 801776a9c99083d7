"""Read the true and false samples out of gitleaks-style rule sources (Go), without a Go toolchain.

The rule files build their test samples from string literals, `+`, `fmt.Sprintf`, the pattern
helpers (`utils.AlphaNumeric("32")`), `utils.GenerateSampleSecrets(identifier, secret)` (one
sample per syntax context) and secrets generated from a regex (`secrets.NewSecret(regex)`).
This module is a small interpreter for that subset: a Go tokenizer (with the automatic
semicolons), an expression parser, and an evaluator that knows those helpers. What it cannot
evaluate becomes an `Unknown` with the reason, counted by the caller, never dropped silently.

The syntax contexts are re-stated from the facts of gitleaks' `utils/generate.go` (the context
names and the line each one writes); regex-driven secrets come from `regexgen.generate` with a
seed fixed per rule, so every run lays out the same samples.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import regexgen

# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One sample text; `syntax` is the GenerateSampleSecrets context or `literal`; `secret` the
    generated value when known (so reports can show its shape instead); `path` for path rules."""

    text: str
    syntax: str = "literal"
    secret: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Unknown:
    """Something the interpreter could not evaluate, with why."""

    reason: str


@dataclass(frozen=True)
class RuleSamples:
    rule_id: str
    function: str
    true: tuple[Sample | Unknown, ...]
    false: tuple[Sample | Unknown, ...]


class Unevaluable(Exception):
    pass


# The syntax contexts of GenerateSampleSecrets: name -> line template ({i} identifier, {I} upper
# case identifier, {s} secret). Restated from the context table of gitleaks' generate.go.
CONTEXTS: dict[str, str] = {
    "ini - quoted1": '{i}Token="{s}"',
    "ini - quoted2": '{i}Token = "{s}"',
    "ini - unquoted1": "{i}Token={s}",
    "ini - unquoted2": "{i}Token = {s}",
    "json - string": '{\n    "{i}_token": "{s}"\n}',
    "json - escaped newline in string": '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
    "xml - element multiline": "<{i}Token>\n    {s}\n</{i}Token>",
    "yaml - singleline - unquoted": "{i}_token: {s}",
    "yaml - singleline - single quote": "{i}_token: '{s}'",
    "yaml - singleline - double quote": '{i}_token: "{s}"',
    "C#": 'string {i}Token = "{s}";',
    "go - normal": 'var {i}Token string = "{s}"',
    "go - short": '{i}Token := "{s}"',
    "go - backticks": "{i}Token := `{s}`",
    "java": 'String {i}Token = "{s}";',
    "kotlin - notype": 'var {i}Token = "{s}"',
    "php - string concat": '${i}Token .= "{s}"',
    "python - single quote": "{i}Token = '{s}'",
    "python - double quote": '{i}Token = "{s}"',
    "misc - comma operator": 'System.setProperty("{I}_TOKEN", "{s}")',
    "logstash": '  "{i}Token" => "{s}"',
    "make - recursive assignment": '{i}_TOKEN = "{s}"',
    "make - simple assignment": '{i}_TOKEN := "{s}"',
    "make - shell assignment": '{i}_TOKEN ::= "{s}"',
    "make - evaluated shell assignment": '{i}_TOKEN :::= "{s}"',
    "make - conditional assignment": '{i}_TOKEN ?= "{s}"',
}


def sample_secrets(identifier: str, secret: str) -> list[Sample]:
    out = []
    for name, template in CONTEXTS.items():
        # One pass over the template, as strings.NewReplacer does (a secret holding "{i}" stays).
        text = re.sub(r"\{[iIs]\}", lambda m: {"{i}": identifier, "{I}": identifier.upper(), "{s}": secret}[m.group()], template)
        out.append(Sample(text, name, secret))
    return out


def entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


# --- tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r]+)
  | (?P<nl>\n)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<raw>`[^`]*`)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<rune>'(?:\\.|[^'\\\n])+')
  | (?P<num>\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.\.\.|:=|==|!=|<=|>=|&&|\|\||\+=|-=|\+\+|--|<-|[-+*/%&|^!<>=(){}\[\],;:.])
""", re.VERBOSE | re.DOTALL)

_ENDS_STATEMENT = {")", "]", "}", "++", "--"}
_KEYWORDS_ENDING = {"break", "continue", "fallthrough", "return"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident, str, num, op, rune, eof
    text: str
    value: Any = None


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v"}


def _unquote(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in _ESCAPES:
            out.append(_ESCAPES[n])
            i += 2
        elif n == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        elif n == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif n == "U":
            out.append(chr(int(body[i + 2:i + 10], 16)))
            i += 10
        elif n in "01234567":
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        else:
            raise ValueError(f"bad escape \\{n}")
    return "".join(out)


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0

    def needs_semicolon() -> bool:
        if not tokens:
            return False
        last = tokens[-1]
        return (last.kind in ("ident", "str", "num", "rune") and (last.kind != "ident" or last.text not in _NO_SEMI_IDENTS)) \
            or (last.kind == "op" and last.text in _ENDS_STATEMENT) or last.text in _KEYWORDS_ENDING

    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise Unevaluable(f"cannot tokenize at offset {pos}")
        pos = m.end()
        kind, text = m.lastgroup, m.group()
        if kind == "ws":
            continue
        if kind == "nl" or (kind == "comment" and "\n" in text):
            if needs_semicolon():
                tokens.append(Token("op", ";"))
            continue
        if kind == "comment":
            continue
        if kind == "raw":
            tokens.append(Token("str", text, text[1:-1].replace("\r", "")))
        elif kind == "str":
            tokens.append(Token("str", text, _unquote(text[1:-1])))
        elif kind == "num":
            tokens.append(Token("num", text, float(text.replace("_", "")) if "." in text or "e" in text.lower() else int(text.replace("_", ""))))
        else:
            tokens.append(Token(kind, text))
    if needs_semicolon():
        tokens.append(Token("op", ";"))
    tokens.append(Token("eof", ""))
    return tokens


_NO_SEMI_IDENTS: set[str] = set()  # every identifier ends a statement in Go


# --- parsing ----------------------------------------------------------------------------------
# Expressions become tuples: ("lit", value) ("name", n) ("sel", x, n) ("call", f, args, spread)
# ("bin", op, l, r) ("un", op, x) ("comp", type, [(key|None, value)]) ("index", x, i) ("unknown", why)


class Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self, k: int = 0) -> Token:
        return self.t[min(self.i + k, len(self.t) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind in ("op", "ident") and tok.text == text

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise Unevaluable(f"expected {text!r}, found {self.peek().text!r}")
        self.i += 1

    def skip_balanced(self) -> None:
        """Skip one statement: up to the `;` at depth zero (braces, brackets, parens balanced)."""
        depth = 0
        while self.peek().kind != "eof":
            tok = self.next()
            if tok.kind == "op" and tok.text in "([{":
                depth += 1
            elif tok.kind == "op" and tok.text in ")]}":
                depth -= 1
                if depth < 0:
                    self.i -= 1
                    return
            elif tok.kind == "op" and tok.text == ";" and depth == 0:
                return

    # expressions

    _PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
                   "+": 4, "-": 4, "|": 4, "^": 4, "*": 5, "/": 5, "%": 5, "&": 5}

    def expression(self, level: int = 1) -> tuple:
        left = self.unary()
        while True:
            tok = self.peek()
            prec = self._PRECEDENCE.get(tok.text) if tok.kind == "op" else None
            if prec is None or prec < level:
                return left
            self.next()
            right = self.expression(prec + 1)
            left = ("bin", tok.text, left, right)

    def unary(self) -> tuple:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("-", "!", "&", "*", "+"):
            self.next()
            return ("un", tok.text, self.unary())
        return self.primary()

    def type_expr(self) -> str:
        """A type as text: []T, map[K]V, pkg.T, *T, func(...) ..."""
        parts = []
        while True:
            if self.at("["):
                self.next()
                inner = "" if self.at("]") else str(self.expression())
                self.expect("]")
                parts.append(f"[{inner}]")
            elif self.at("*"):
                self.next()
                parts.append("*")
            elif self.at("map"):
                self.next()
                self.expect("[")
                key = self.type_expr()
                self.expect("]")
                parts.append(f"map[{key}]")
            else:
                name = self.next().text
                while self.at("."):
                    self.next()
                    name += "." + self.next().text
                parts.append(name)
                return "".join(parts)

    def primary(self) -> tuple:
        tok = self.peek()
        if tok.kind in ("str", "num"):
            self.next()
            node: tuple = ("lit", tok.value)
        elif tok.kind == "rune":
            self.next()
            node = ("lit", _unquote(tok.text[1:-1]))
        elif tok.kind == "op" and tok.text == "(":
            self.next()
            node = self.expression()
            self.expect(")")
        elif tok.kind == "op" and tok.text == "[" or tok.text == "map":
            typ = self.type_expr()
            node = self.composite(typ) if self.at("{") else ("unknown", f"type {typ}")
        elif tok.kind == "op" and tok.text == "{":  # an elided composite type inside a composite
            node = self.composite("")
        elif tok.text == "func":
            self.next()
            self.skip_until_body()
            self.skip_block()
            node = ("unknown", "function literal")
        elif tok.kind == "ident":
            self.next()
            node = ("name", tok.text)
        else:
            raise Unevaluable(f"unexpected {tok.text!r}")
        while True:
            if self.at("."):
                self.next()
                if self.at("("):  # type assertion x.(T)
                    self.next()
                    self.type_expr()
                    self.expect(")")
                    node = ("unknown", "type assertion")
                    continue
                node = ("sel", node, self.next().text)
            elif self.at("("):
                self.next()
                args, spread = [], False
                while not self.at(")"):
                    args.append(self.expression())
                    if self.at("..."):
                        self.next()
                        spread = True
                    if self.at(","):
                        self.next()
                    if self.at(";"):
                        self.next()
                self.expect(")")
                node = ("call", node, args, spread)
            elif self.at("["):
                self.next()
                if self.at(":") or self._slice_ahead():
                    self.skip_brackets()
                    node = ("unknown", "slice expression")
                    continue
                index = self.expression()
                self.expect("]")
                node = ("index", node, index)
            elif self.at("{") and node[0] in ("name", "sel") and self._composite_ok(node):
                node = self.composite(_type_name(node))
            else:
                return node

    def _composite_ok(self, node: tuple) -> bool:
        # Type names start with an upper-case letter in the rule sources (config.Rule, Component);
        # `if x {` never reaches here because statements other than assignments are skipped.
        name = _type_name(node)
        return name.split(".")[-1][:1].isupper()

    def _slice_ahead(self) -> bool:
        depth, k = 0, 0
        while True:
            tok = self.peek(k)
            if tok.kind == "eof":
                return False
            if tok.text in "([{":
                depth += 1
            elif tok.text in ")]}":
                if depth == 0:
                    return False
                depth -= 1
            elif tok.text == ":" and depth == 0:
                return True
            k += 1

    def skip_brackets_from_open(self) -> None:
        self.expect("[")
        self.skip_brackets()

    def skip_brackets(self) -> None:
        depth = 1
        while depth and self.peek().kind != "eof":
            tok = self.next()
            if tok.text == "[":
                depth += 1
            elif tok.text == "]":
                depth -= 1

    def composite(self, typ: str) -> tuple:
        self.expect("{")
        elements: list[tuple[tuple | None, tuple]] = []
        while not self.at("}"):
            if self.at(";"):
                self.next()
                continue
            first = self.expression()
            if self.at(":"):
                self.next()
                elements.append((first, self.expression()))
            else:
                elements.append((None, first))
            if self.at(","):
                self.next()
            while self.at(";"):
                self.next()
        self.expect("}")
        return ("comp", typ, elements)

    def skip_until_body(self) -> None:
        depth = 0
        while self.peek().kind != "eof":
            if self.at("{") and depth == 0:
                return
            tok = self.next()
            if tok.text in "([":
                depth += 1
            elif tok.text in ")]":
                depth -= 1

    def skip_block(self) -> None:
        self.expect("{")
        depth = 1
        while depth and self.peek().kind != "eof":
            tok = self.next()
            if tok.kind == "op" and tok.text == "{":
                depth += 1
            elif tok.kind == "op" and tok.text == "}":
                depth -= 1


def _type_name(node: tuple) -> str:
    if node[0] == "name":
        return node[1]
    if node[0] == "sel":
        return _type_name(node[1]) + "." + node[2]
    return "?"


# --- declarations -----------------------------------------------------------------------------


@dataclass
class Function:
    name: str
    params: list[str]
    body: list[Token]


@dataclass
class Package:
    """What the rule sources declare at the top: functions and constants/variables (unevaluated)."""

    functions: dict[str, Function] = field(default_factory=dict)
    values: dict[str, tuple] = field(default_factory=dict)


def read_package(sources: dict[str, str], package: Package | None = None, prefix: str = "") -> Package:
    """Declarations of the Go files `sources` (name -> text). `prefix` qualifies the names
    (`utils.` for the helpers package), so one Package holds several Go packages."""
    package = package or Package()
    for text in sources.values():
        p = Parser(tokenize(text))
        while p.peek().kind != "eof":
            tok = p.next()
            if tok.text == "func" and p.peek().kind == "ident":
                name = p.next().text
                if p.at("["):  # a generic function: its type parameters
                    p.skip_brackets_from_open()
                params = _params(p)
                p.skip_until_body()
                start = p.i
                p.skip_block()
                package.functions[prefix + name] = Function(prefix + name, params, p.t[start + 1:p.i - 1] + [Token("op", ";"), Token("eof", "")])
            elif tok.text in ("const", "var") and p.peek().kind in ("ident", "op"):
                if p.at("("):
                    p.next()
                    while not p.at(")") and p.peek().kind != "eof":
                        if p.at(";"):
                            p.next()
                            continue
                        _value_spec(p, package, prefix)
                    p.next()
                else:
                    _value_spec(p, package, prefix)
    return package


def _params(p: Parser) -> list[str]:
    p.expect("(")
    names: list[str] = []
    depth = 1
    expecting_name = True
    while depth and p.peek().kind != "eof":
        tok = p.next()
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif tok.text == "," and depth == 1:
            expecting_name = True
        elif expecting_name and tok.kind == "ident" and depth == 1:
            names.append(tok.text)
            expecting_name = False
    return names


def _value_spec(p: Parser, package: Package, prefix: str) -> None:
    start = p.i
    try:
        name = p.next().text
        if not p.at("="):
            p.type_expr()
        if p.at("="):
            p.next()
            package.values[prefix + name] = p.expression()
        p.skip_balanced()
    except Unevaluable:
        p.i = start
        p.skip_balanced()


# --- evaluation -------------------------------------------------------------------------------

MAX_CALL_DEPTH = 8


class Interpreter:
    """Runs rule functions; `found` collects (rule id, tps, fps) at every utils.Validate call."""

    def __init__(self, package: Package, seed: str) -> None:
        self.package = package
        self.seed = seed
        self.rng = random.Random(seed)
        self.globals: dict[str, Any] = {}
        self.found: list[RuleSamples] = []
        self.skipped: Counter[str] = Counter()  # statements not understood that touch the samples
        self.function = ""
        self.depth = 0

    # calls into the known helpers
    def builtin(self, name: str, args: list[Any]) -> Any:
        s = [a for a in args]
        helpers: dict[str, Callable[..., Any]] = {
            "utils.Numeric": lambda n: f"[0-9]{{{n}}}",
            "utils.Hex": lambda n: f"[a-f0-9]{{{n}}}",
            "utils.AlphaNumeric": lambda n: f"[a-z0-9]{{{n}}}",
            "utils.AlphaNumericExtendedShort": lambda n: f"[a-z0-9_-]{{{n}}}",
            "utils.AlphaNumericExtended": lambda n: f"[a-z0-9=_\\-]{{{n}}}",
            "utils.AlphaNumericExtendedLong": lambda n: f"[a-z0-9\\/=_\\+\\-]{{{n}}}",
            "utils.Hex8_4_4_4_12": lambda: "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "utils.GenerateSampleSecrets": lambda i, sec: sample_secrets(_text(i), _text(sec)),
            "utils.GenerateSampleSecret": lambda i, sec: Sample(f'{_text(i)}_api_token = "{_text(sec)}"', "literal", _text(sec)),
            "secrets.NewSecret": lambda rx: self.secret(_text(rx), 0.0),
            "secrets.NewSecretWithEntropy": lambda rx, e: self.secret(_text(rx), float(e)),
            "fmt.Sprintf": lambda f, *a: go_sprintf(_text(f), a),
            "strings.Repeat": lambda x, n: _text(x) * int(n),
            "strings.ToUpper": lambda x: _text(x).upper(),
            "strings.ToLower": lambda x: _text(x).lower(),
            "strings.Join": lambda xs, sep: _text(sep).join(_text(x) for x in xs),
            "strings.ReplaceAll": lambda x, a, b: _text(x).replace(_text(a), _text(b)),
            "strconv.Itoa": lambda n: str(int(n)),
            "string": lambda x: _text(x),
            "len": lambda x: len(x),
            "append": lambda xs, *more: list(xs or []) + list(more),
            "utils.Ptr": lambda x: x,
        }
        if name in helpers:
            try:
                return helpers[name](*s)
            except TypeError as e:
                raise Unevaluable(f"{name}: {e}") from None
        if name in self.package.functions:
            return self.call(self.package.functions[name], args)
        raise Unevaluable(f"unknown function {name}")

    def secret(self, regex: str, min_entropy: float) -> str:
        value = regexgen.generate(regex, self.rng)
        for _ in range(9):  # as the samples are made: up to ten tries for the entropy asked for
            if entropy(value) >= min_entropy:
                break
            value = regexgen.generate(regex, self.rng)
        return value

    def call(self, function: Function, args: list[Any]) -> Any:
        if self.depth >= MAX_CALL_DEPTH:
            raise Unevaluable("calls nest too deep")
        self.depth += 1
        try:
            env = dict(zip(function.params, args))
            return self.run(function.body, env)
        finally:
            self.depth -= 1

    def run_rule_function(self, function: Function) -> None:
        self.function = function.name
        # A seed per rule: one rule's samples do not change when another rule is added.
        self.rng = random.Random(f"{self.seed}:{function.name}")
        try:
            self.call(function, [])
        except Unevaluable as e:
            self.skipped[f"{function.name}: {e}"] += 1

    def run(self, tokens: list[Token], env: dict[str, Any]) -> Any:
        p = Parser(tokens)
        while p.peek().kind != "eof":
            if p.at(";"):
                p.next()
                continue
            start = p.i
            try:
                result = self.statement(p, env)
            except Unevaluable as e:
                p.i = start
                p.skip_balanced()
                if p.i == start:  # a stray closer: step over it
                    p.next()
                touched = {t.text for t in p.t[start:p.i] if t.kind == "ident"} & {"tps", "fps", "truePositives", "falsePositives"}
                if touched:
                    self.skipped[f"{self.function}: {e}"] += 1
                continue
            if isinstance(result, _Return):
                return result.value
        return None

    def statement(self, p: Parser, env: dict[str, Any]) -> Any:
        tok = p.peek()
        if tok.text == "return":
            p.next()
            value = None if p.at(";") or p.at("}") else self.eval(p.expression(), env)
            return _Return(value)
        if tok.text == "var":
            p.next()
            name = p.next().text
            if not p.at("="):
                p.type_expr()
            env[name] = None
            if p.at("="):
                p.next()
                env[name] = self.eval(p.expression(), env)
            p.skip_balanced()
            return None
        if tok.text in ("if", "for", "switch", "go", "defer", "select"):
            raise Unevaluable(f"{tok.text} statement")
        target = p.expression()
        if p.at(":=") or p.at("="):
            p.next()
            value = self.eval(p.expression(), env)
            self.assign(target, value, env)
        elif p.at("+="):
            p.next()
            value = self.eval(p.expression(), env)
            self.assign(target, _add(self.eval(target, env), value), env)
        elif p.at(","):
            raise Unevaluable("multiple assignment")
        else:
            self.eval(target, env)  # an expression statement (a call)
        if not (p.at(";") or p.at("}") or p.peek().kind == "eof"):
            raise Unevaluable(f"unexpected {p.peek().text!r} after a statement")
        return None

    def assign(self, target: tuple, value: Any, env: dict[str, Any]) -> None:
        if target[0] == "name":
            env[target[1]] = value
        elif target[0] == "sel":
            base = self.eval(target[1], env)
            if isinstance(base, dict):
                base[target[2]] = value
        elif target[0] == "index":
            base = self.eval(target[1], env)
            key = self.eval(target[2], env)
            if isinstance(base, (dict, list)):
                base[key] = value
        else:
            raise Unevaluable("assignment target")

    def lookup(self, name: str, env: dict[str, Any]) -> Any:
        if name in env:
            return env[name]
        if name in ("nil", "true", "false"):
            return {"nil": None, "true": True, "false": False}[name]
        for qualified in (name, f"rules.{name}"):
            if qualified in self.globals:
                return self.globals[qualified]
            if qualified in self.package.values:
                self.globals[qualified] = None  # a cycle reads nil rather than looping
                self.globals[qualified] = self.eval(self.package.values[qualified], {})
                return self.globals[qualified]
        raise Unevaluable(f"unknown name {name}")

    def eval(self, node: tuple, env: dict[str, Any]) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "name":
            return self.lookup(node[1], env)
        if kind == "unknown":
            raise Unevaluable(node[1])
        if kind == "sel":
            if node[1][0] == "name" and node[1][1] not in env:
                return self.lookup(f"{node[1][1]}.{node[2]}", env)
            base = self.eval(node[1], env)
            if isinstance(base, dict) and node[2] in base:
                return base[node[2]]
            raise Unevaluable(f"field {node[2]}")
        if kind == "bin":
            left, right = self.eval(node[2], env), self.eval(node[3], env)
            if node[1] == "+":
                return _add(left, right)
            ops = {"-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a // b if isinstance(a, int) else a / b,
                   "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
            if node[1] in ops:
                return ops[node[1]](left, right)
            raise Unevaluable(f"operator {node[1]}")
        if kind == "un":
            value = self.eval(node[2], env)
            if node[1] in ("&", "*", "+"):
                return value
            if node[1] == "-":
                return -value
            return not value
        if kind == "index":
            base, key = self.eval(node[1], env), self.eval(node[2], env)
            try:
                return base[key]
            except (KeyError, IndexError, TypeError):
                raise Unevaluable("index") from None
        if kind == "comp":
            return self.composite(node, env)
        if kind == "call":
            return self.eval_call(node, env)
        raise Unevaluable(kind)

    def composite(self, node: tuple, env: dict[str, Any]) -> Any:
        typ, elements = node[1], node[2]
        keyed = typ.startswith("map[") or (elements and elements[0][0] is not None and not typ.startswith("["))
        if keyed:
            out: dict[Any, Any] = {}
            for key, value in elements:
                if key is None:
                    continue
                name = key[1] if key[0] == "name" and not typ.startswith("map[") else None
                try:
                    k = name if name is not None else self.eval(key, env)
                except Unevaluable as e:
                    self.skipped[f"{self.function}: map key {e}"] += 1
                    continue
                out[k] = self._element(value, env)
            return out
        return [self._element(value, env) for _, value in elements]

    def _element(self, node: tuple, env: dict[str, Any]) -> Any:
        try:
            return self.eval(node, env)
        except Unevaluable as e:
            return Unknown(f"{self.function}: {e}")

    def eval_call(self, node: tuple, env: dict[str, Any]) -> Any:
        fn, arg_nodes, spread = node[1], node[2], node[3]
        name = _type_name(fn) if fn[0] in ("name", "sel") else "?"
        if name in ("utils.Validate", "utils.ValidateWithPaths"):
            rule, tps, fps = (self.eval(a, env) for a in arg_nodes[:3])
            self.found.append(self.collect(rule, tps, fps, with_paths=name.endswith("Paths")))
            return rule
        if name == "append":
            base = self.eval(arg_nodes[0], env)
            items: list[Any] = []
            for i, a in enumerate(arg_nodes[1:], 1):
                if spread and i == len(arg_nodes) - 1:
                    value = self._element(a, env)
                    items.extend(value if isinstance(value, list) else [value])
                else:
                    items.append(self._element(a, env))
            return list(base or []) + items
        args = [self.eval(a, env) for a in arg_nodes]
        if any(isinstance(a, Unknown) for a in args):
            raise Unevaluable(next(a.reason for a in args if isinstance(a, Unknown)))
        if fn[0] == "name" and f"rules.{name}" in self.package.functions:
            return self.call(self.package.functions[f"rules.{name}"], args)
        return self.builtin(name, args)

    def collect(self, rule: Any, tps: Any, fps: Any, with_paths: bool) -> RuleSamples:
        rule_id = rule.get("ID") if isinstance(rule, dict) else None
        if not isinstance(rule_id, str):
            raise Unevaluable("a rule without a readable ID")
        return RuleSamples(rule_id, self.function, _samples(tps, with_paths), _samples(fps, with_paths))


@dataclass(frozen=True)
class _Return:
    value: Any


def _samples(values: Any, with_paths: bool) -> tuple[Sample | Unknown, ...]:
    if values is None:
        return ()
    if with_paths and isinstance(values, dict):
        out: list[Sample | Unknown] = []
        for path, v in values.items():
            if isinstance(v, Unknown):
                out.append(v)
            else:
                s = _as_sample(v)
                out.append(s if isinstance(s, Unknown) else Sample(s.text, "path", s.secret, str(path)))
        return tuple(out)
    if isinstance(values, Unknown):
        return (values,)
    if not isinstance(values, list):
        return (Unknown(f"samples of type {type(values).__name__}"),)
    return tuple(_as_sample(v) for v in values)


def _as_sample(value: Any) -> Sample | Unknown:
    if isinstance(value, (Sample, Unknown)):
        return value
    if isinstance(value, str):
        return Sample(value)
    return Unknown(f"a sample of type {type(value).__name__}")


def _text(value: Any) -> str:
    if isinstance(value, Sample):
        return value.text
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise Unevaluable(f"expected a string, got {type(value).__name__}")


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left + right
    if isinstance(left, Sample) or isinstance(right, Sample):
        secret = left.secret if isinstance(left, Sample) else right.secret if isinstance(right, Sample) else None
        return Sample(_text(left) + _text(right), "literal", secret)
    return _text(left) + _text(right)


def go_sprintf(fmt: str, args: tuple[Any, ...]) -> str:
    """fmt.Sprintf for the verbs the rule sources use (%s %d %v %q %%)."""
    values = iter(args)

    def verb(m: re.Match[str]) -> str:
        v = m.group(1)
        if v == "%":
            return "%"
        try:
            value = next(values)
        except StopIteration:
            raise Unevaluable("fmt.Sprintf: missing argument") from None
        if v == "q":
            return '"' + _text(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        return _text(value)

    return re.sub(r"%[-+# 0]*\d*(?:\.\d+)?([sdvq%])", verb, fmt)


def extract(rule_sources: dict[str, str], util_sources: dict[str, str], registered: list[str],
            seed: str = "radar-benchmark") -> tuple[list[RuleSamples], Counter[str]]:
    """The samples of every registered rule function. `rule_sources` are the rules package's
    files, `util_sources` the utils package's, `registered` the function names the generator calls.
    Returns the rules' samples and the count of what could not be evaluated, by reason."""
    package = read_package(rule_sources, prefix="rules.")
    read_package(util_sources, package, prefix="utils.")
    interpreter = Interpreter(package, seed)
    missing: Counter[str] = Counter()
    for name in registered:
        function = package.functions.get(f"rules.{name}")
        if function is None:
            missing[f"{name}: function not found"] += 1
            continue
        interpreter.run_rule_function(function)
    missing.update(interpreter.skipped)
    return interpreter.found, missing


def registered_rules(main_source: str) -> list[str]:
    """The rule functions the config generator calls: `rules.Name(` in its main.go, in order."""
    seen: dict[str, None] = {}
    for name in re.findall(r"\brules\.([A-Z][A-Za-z0-9_]*)\(", main_source):
        seen.setdefault(name)
    return list(seen)

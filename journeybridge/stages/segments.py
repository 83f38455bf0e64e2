"""Segments and personas: named, declarative rules over the per-person features, parsed into a
small syntax tree and evaluated without ``eval``. A person may be in several segments.

The rule language::

    rule        := or
    or          := and ("or" and)*
    and         := not ("and" not)*
    not         := "not" not | "(" rule ")" | test
    test        := FEATURE [op VALUE] | FEATURE "in" LIST | VALUE "in" FEATURE
    op          := "==" | "!=" | "<" | "<=" | ">" | ">="
    VALUE       := number | 'text' | "text" | true | false | none
    LIST        := "[" VALUE ("," VALUE)* "]"

Limits (a rule past them is a configuration error, never a crash): at most
:data:`MAX_RULE_LENGTH` characters, :data:`MAX_DEPTH` nested parentheses or ``not``, and
numbers of at most :data:`MAX_NUMBER_LENGTH` characters. An error quotes at most an excerpt of
the rule around the problem.

Examples: ``orders >= 3 and total_spent > 200``, ``country in ['NL', 'BE'] and newsletter``,
``'JB-1' in skus``, ``not registered and orders >= 2``, ``stage == 'at_risk' and
average_order_value >= 50``. A bare feature is true when it is truthy. A comparison with a
missing value (``None``) is false. Unknown features, bad operators and type mismatches are
reported when the rule is parsed, with the segment's name and the position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from journeybridge.errors import SegmentRuleError
from journeybridge.redact import excerpt
from journeybridge.stages.features import FEATURES, FeatureValue

__all__ = ["MAX_DEPTH", "MAX_NUMBER_LENGTH", "MAX_RULE_LENGTH", "Segment", "SegmentRuleError",
           "parse_segments", "segments_for"]

Literal = int | float | str | bool | None

MAX_RULE_LENGTH = 10_000
"""The longest segment rule accepted, in characters."""
MAX_DEPTH = 50
"""The deepest nesting of parentheses and ``not`` accepted in a rule."""
MAX_NUMBER_LENGTH = 30
"""The longest number accepted in a rule, in characters (sign and decimals included)."""
_SHOWN = 60


@dataclass(frozen=True)
class _Compare:
    feature: str
    op: str
    value: Literal


@dataclass(frozen=True)
class _InList:
    feature: str
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class _Contains:
    value: Literal
    feature: str


@dataclass(frozen=True)
class _Truthy:
    feature: str


@dataclass(frozen=True)
class _Not:
    inner: _Node


@dataclass(frozen=True)
class _BoolOp:
    op: str
    parts: tuple[_Node, ...]


_Node = _Compare | _InList | _Contains | _Truthy | _Not | _BoolOp

_TOKEN = re.compile(r"""\s*(?:
    (?P<num>-?\d+(?:\.\d+)?)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<op><=|>=|==|!=|<|>)
  | (?P<punct>[()\[\],])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
)""", re.VERBOSE)

_SET_FEATURES = {"products", "skus"}
_TEXT_FEATURES = {"country", "stage", "rfm_group"}
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "none"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _around(rule: str, pos: int) -> str:
    """The rule itself when short, else an excerpt around ``pos`` (0-based)."""
    if len(rule) <= _SHOWN:
        return repr(rule)
    start = max(0, pos - _SHOWN // 2)
    end = min(len(rule), start + _SHOWN)
    head = "..." if start > 0 else ""
    tail = "..." if end < len(rule) else ""
    return f"{head}{rule[start:end]!r}{tail} (a rule of {len(rule)} characters)"


def _tokens(rule: str, name: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    rule = rule.rstrip()
    while pos < len(rule):
        match = _TOKEN.match(rule, pos)
        if match is None or match.end() == pos:
            raise SegmentRuleError(f"segment {name!r}: unexpected {rule[pos:pos + 10]!r} at "
                                   f"position {pos + 1}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "num" and len(text) > MAX_NUMBER_LENGTH:
            raise SegmentRuleError(f"segment {name!r}: a number of {len(text)} characters at "
                                   f"position {match.start(kind) + 1} (at most "
                                   f"{MAX_NUMBER_LENGTH})")
        out.append(_Token(kind, text, match.start(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, rule: str, name: str) -> None:
        self.name = name
        self.rule = rule
        self.tokens = _tokens(rule, name)
        self.i = 0
        self.depth = 0

    def fail(self, what: str) -> SegmentRuleError:
        token = self.peek()
        if token is None:
            where, pos = "the end", len(self.rule)
        else:
            shown = token.text if len(token.text) <= 20 else token.text[:20] + "..."
            where, pos = f"position {token.pos + 1} ({shown!r})", token.pos
        return SegmentRuleError(f"segment {self.name!r}: {what} at {where} in "
                                f"{_around(self.rule, pos)}")

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} deep")

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (text is not None and token.text.lower() != text):
            raise self.fail(f"expected {text!r}" if text else "unexpected end of rule")
        self.i += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.text.lower() == text

    def parse(self) -> _Node:
        if not self.tokens:
            raise SegmentRuleError(f"segment {self.name!r}: the rule is empty")
        node = self.or_()
        if self.peek() is not None:
            raise self.fail("expected 'and', 'or' or the end")
        return node

    def or_(self) -> _Node:
        parts = [self.and_()]
        while self.at("or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else _BoolOp("or", tuple(parts))

    def and_(self) -> _Node:
        parts = [self.not_()]
        while self.at("and"):
            self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else _BoolOp("and", tuple(parts))

    def not_(self) -> _Node:
        if self.at("not"):
            self.deeper()
            self.take()
            node: _Node = _Not(self.not_())
            self.depth -= 1
            return node
        if self.at("("):
            self.deeper()
            self.take()
            node = self.or_()
            self.take(")")
            self.depth -= 1
            return node
        return self.test()

    def literal(self) -> Literal:
        if self.peek() is None:
            raise self.fail("expected a number, a quoted text, true, false or none")
        token = self.take()
        if token.kind == "num":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "str":
            return token.text[1:-1]
        word = token.text.lower()
        if word in ("true", "false"):
            return word == "true"
        if word == "none":
            return None
        self.i -= 1
        raise self.fail("expected a number, a quoted text, true, false or none")

    def feature(self) -> str:
        token = self.take()
        if token.kind != "word" or token.text.lower() in _KEYWORDS:
            self.i -= 1
            raise self.fail("expected a feature name")
        if token.text not in FEATURES:
            self.i -= 1
            raise self.fail(f"unknown feature {token.text!r} (known: "
                            f"{', '.join(sorted(FEATURES))})")
        return token.text

    def test(self) -> _Node:
        token = self.peek()
        if token is not None and token.kind in ("num", "str"):
            value = self.literal()
            self.take("in")
            feature = self.feature()
            if feature not in _SET_FEATURES:
                raise self.fail(f"'in {feature}' needs a set feature "
                                f"({', '.join(sorted(_SET_FEATURES))})")
            return _Contains(value, feature)
        feature = self.feature()
        nxt = self.peek()
        if nxt is not None and nxt.kind == "op":
            op = self.take().text
            value = self.literal()
            self._check_types(feature, op, value)
            return _Compare(feature, op, value)
        if self.at("in"):
            self.take()
            self.take("[")
            values = [self.literal()]
            while self.at(","):
                self.take()
                values.append(self.literal())
            self.take("]")
            return _InList(feature, tuple(values))
        return _Truthy(feature)

    def _check_types(self, feature: str, op: str, value: Literal) -> None:
        if feature in _SET_FEATURES:
            raise self.fail(f"{feature} is a set: use \"'value' in {feature}\"")
        if (op in ("<", "<=", ">", ">=") and not isinstance(value, (int, float))) or \
                (isinstance(value, bool) and op not in ("==", "!=")):
            raise self.fail(f"{op} needs a number")
        if feature in _TEXT_FEATURES and op not in ("==", "!="):
            raise self.fail(f"{feature} is text: use == or !=")


def _compare(left: FeatureValue, op: str, right: Literal) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or isinstance(left, (frozenset, str, bool)) or right is None or \
            isinstance(right, (str, bool)):
        return False
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _evaluate(node: _Node, features: Mapping[str, FeatureValue]) -> bool:
    if isinstance(node, _BoolOp):
        if node.op == "and":
            return all(_evaluate(part, features) for part in node.parts)
        return any(_evaluate(part, features) for part in node.parts)
    if isinstance(node, _Not):
        return not _evaluate(node.inner, features)
    if isinstance(node, _Compare):
        return _compare(features.get(node.feature), node.op, node.value)
    if isinstance(node, _InList):
        value = features.get(node.feature)
        return value in node.values if isinstance(value, (str, int, float)) else False
    if isinstance(node, _Contains):
        container = features.get(node.feature)
        return isinstance(container, frozenset) and str(node.value) in container
    return bool(features.get(node.feature))


@dataclass(frozen=True)
class Segment:
    """A named rule; ``matches`` says whether a person's features satisfy it."""

    name: str
    rule: str
    tree: _Node

    def matches(self, features: Mapping[str, FeatureValue]) -> bool:
        """True when the features satisfy the rule."""
        return _evaluate(self.tree, features)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,63}$")


def parse_segments(rules: Mapping[str, str]) -> tuple[Segment, ...]:
    """Parse ``{name: rule}``; raises SegmentRuleError naming the first bad one. Segment names
    are letters, digits, spaces and ``_.:-`` (they are written to the shop, comma-separated)."""
    segments = []
    for name, rule in rules.items():
        if not _NAME.match(name):
            raise SegmentRuleError(f"segment name {excerpt(str(name), 70)!r}: use letters, "
                                   "digits, spaces and _ . : - (at most 64 characters, no "
                                   "commas)")
        if not isinstance(rule, str):
            raise SegmentRuleError(f"segment {name!r}: the rule must be text")
        if len(rule) > MAX_RULE_LENGTH:
            raise SegmentRuleError(f"segment {name!r}: the rule has {len(rule)} characters "
                                   f"(at most {MAX_RULE_LENGTH}): {_around(rule, 0)}")
        segments.append(Segment(name=name, rule=rule, tree=_Parser(rule, name).parse()))
    return tuple(segments)


def segments_for(segments: tuple[Segment, ...],
                 features: Mapping[str, FeatureValue]) -> tuple[str, ...]:
    """The names of the segments a person is in, sorted."""
    return tuple(sorted(s.name for s in segments if s.matches(features)))

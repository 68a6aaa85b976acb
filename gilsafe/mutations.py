"""Where code changes state: stores, deletes and mutating method calls, found syntactically.

Rules ask the model whose state each write touches; this module only says what is written and how.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

# Methods of list/dict/set/deque that change the container (`append`-like ones grow it).
GROWERS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft"})
SHRINKERS = frozenset({"pop", "popitem", "remove", "clear", "discard", "popleft"})
REORDERERS = frozenset({"sort", "reverse"})
CHANGES_SIZE = GROWERS | SHRINKERS
MUTATORS = CHANGES_SIZE | REORDERERS


@dataclass(frozen=True)
class Write:
    """One change of state. `target` is what is written (`d[k]`, `x`, `self.a`); `container` is the
    object whose contents change (`d` for `d[k] = v` and for `d.pop(k)`), or None for a rebinding."""

    node: cst.CSTNode  # the statement or call, for positions and locks
    target: cst.BaseExpression
    container: cst.BaseExpression | None
    how: str  # "store", "del", "augmented", or the method name


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node`, not descending into nested functions, lambdas or classes (their
    bodies run later, elsewhere)."""
    stack = list(node.children)
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(current.children)


def writes_in(node: cst.CSTNode) -> Iterator[Write]:
    """The writes in a subtree (including `node` itself when it is one)."""
    for current in (node, *walk(node)):
        yield from writes_of(current)


def writes_of(node: cst.CSTNode) -> Iterator[Write]:
    """The writes one node makes, if it is a store, a delete or a mutating call."""
    if isinstance(node, cst.Assign):
        for target in node.targets:
            yield from _stores(node, target.target, "store")
    elif isinstance(node, cst.AnnAssign) and node.value is not None:
        yield from _stores(node, node.target, "store")
    elif isinstance(node, cst.AugAssign):
        yield from _stores(node, node.target, "augmented")
    elif isinstance(node, cst.Del):
        yield from _stores(node, node.target, "del")
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in MUTATORS:
        receiver = node.func.value
        yield Write(node, receiver, receiver, node.func.attr.value)


def _stores(statement: cst.CSTNode, target: cst.BaseExpression, how: str) -> Iterator[Write]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _stores(statement, element.value, how)
    elif isinstance(target, cst.StarredElement):
        yield from _stores(statement, target.value, how)
    elif isinstance(target, cst.Subscript):
        yield Write(statement, target, target.value, how)
    elif isinstance(target, (cst.Name, cst.Attribute)):
        yield Write(statement, target, None, how)


def reads_in(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The access chains an expression reads (`d`, `self._x`, `q`), outermost first."""
    for current in (node, *walk(node)):
        if isinstance(current, (cst.Name, cst.Attribute, cst.Subscript)):
            yield current


def reads_target(value: cst.CSTNode, target: cst.BaseExpression) -> bool:
    """True when `value` reads `target` (`x + 1` for `x`, `d.get(k, 0) + 1` for `d[k]`)."""
    for node in (value, *walk(value)):
        if isinstance(node, type(target)) and node.deep_equals(target):
            return True
        if (
            isinstance(target, cst.Subscript)
            and isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in ("get", "setdefault")
            and node.func.value.deep_equals(target.value)
            and node.args
            and len(target.slice) == 1
            and isinstance(target.slice[0].slice, cst.Index)
            and node.args[0].value.deep_equals(target.slice[0].slice.value)
        ):
            return True
    return False

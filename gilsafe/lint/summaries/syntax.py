"""One pass over a LibCST tree that every summary reads from: nodes in pre-order (a node's ordinal is
its `Anchor`), each node's parent and the node that opens its scope, and the nodes of each type.

The walk is iterative and reads each node's fields directly: LibCST's visitor dispatch, metadata
wrapper and position provider cost several times the parse on large trees, and summaries only need
the syntax. Whitespace and punctuation are skipped. Positions are computed later, only for the
nodes a finding points at (`locate`), by one code-generation pass that tracks lines and columns.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from collections import defaultdict
from collections.abc import Iterator
from typing import NamedTuple

import libcst as cst
from libcst._nodes.internal import CodegenState

from gilsafe.lint.summaries.keys import Anchor

# Fields that hold only layout (whitespace, brackets, commas, operators) or names that are not
# variables (`obj.attr`'s attr, `f(key=...)`'s key).
_SKIPPED_FIELDS = frozenset(
    {
        "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "semicolon",
        "comma", "newline", "indent", "equal", "colon", "dot", "operator", "asynchronous", "lbrace",
        "rbrace", "lbracket", "rbracket", "trailing_whitespace", "empty_lines", "first_colon",
        "second_colon", "separator", "star", "default_indent", "default_newline", "encoding",
        "has_trailing_newline", "relative", "comment", "leading_whitespace", "first_line", "last_line",
        "trailing_comma", "posonly_ind", "conversion", "attr", "keyword", "whitespace",
    }
)
_FIELDS: dict[type, tuple[str, ...]] = {}

# Nodes that open a scope of their own.
SCOPE_NODES = (cst.Module, cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
FunctionNode = cst.FunctionDef | cst.Lambda


# `isinstance(x, cst.CSTNode)` goes through ABCMeta on every call; the walks ask it millions of
# times, so they ask once per type instead.
_IS_NODE: dict[type, bool] = {}
_SCOPE_TYPES = frozenset(SCOPE_NODES)
_NESTED_BODIES = frozenset((cst.FunctionDef, cst.Lambda, cst.ClassDef))


def _is_node_type(kind: type) -> bool:
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return known


def _child_fields(kind: type) -> tuple[str, ...]:
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = tuple(
            f.name for f in dataclasses.fields(kind) if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
        _FIELDS[kind] = fields
    return fields


class SyntaxIndex:
    """The facts of one walk over a module's tree."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.nodes: list[cst.CSTNode] = []  # pre-order; a node's index is its anchor
        self.anchors: dict[cst.CSTNode, Anchor] = {}
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        # The scope-opening node (Module, FunctionDef, Lambda, ClassDef, comprehension) whose scope a
        # node's names belong to. Decorators, defaults, annotations, base classes and a
        # comprehension's first iterable belong to the enclosing scope, as in Python.
        self.scopes: dict[cst.CSTNode, cst.CSTNode] = {}
        self.by_type: dict[type, list[cst.CSTNode]] = defaultdict(list)
        self._walk(module)

    def _walk(self, root: cst.Module) -> None:
        nodes, anchors, parents, scopes, by_type = self.nodes, self.anchors, self.parents, self.scopes, self.by_type
        is_node, scope_types = _IS_NODE, _SCOPE_TYPES
        stack: list[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode]] = [(root, None, root)]
        while stack:
            node, parent, scope = stack.pop()
            anchors[node] = len(nodes)
            nodes.append(node)
            kind = type(node)
            by_type[kind].append(node)
            if parent is not None:
                parents[node] = parent
            scopes[node] = scope
            children: list[tuple[cst.CSTNode, cst.CSTNode]] = []
            inner = node if kind in scope_types else scope
            for name in _child_fields(kind):
                value = getattr(node, name)
                child_scope = inner
                if inner is not scope and name in _OUTER_FIELDS.get(kind, ()):
                    child_scope = scope
                elif kind is cst.Param and name in ("default", "annotation"):
                    child_scope = scopes.get(scope, scope)  # evaluated where the def is
                elif kind is cst.CompFor and name == "iter" and isinstance(parent, COMPREHENSIONS):
                    child_scope = scopes[parent]  # the first iterable is evaluated outside
                value_type = type(value)
                if is_node.get(value_type) or (value_type not in is_node and _is_node_type(value_type)):
                    children.append((value, child_scope))
                elif value_type is tuple or value_type is list:
                    for item in value:
                        item_type = type(item)
                        if is_node.get(item_type) or (item_type not in is_node and _is_node_type(item_type)):
                            children.append((item, child_scope))
            for child, child_scope in reversed(children):
                stack.append((child, node, child_scope))

    # -- questions about the tree -------------------------------------------------------------

    def of_type(self, *kinds: type) -> Iterator[cst.CSTNode]:
        for kind in kinds:
            yield from self.by_type.get(kind, ())

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def scope_node(self, node: cst.CSTNode) -> cst.CSTNode:
        return self.scopes[node]

    def enclosing_function(self, node: cst.CSTNode) -> FunctionNode | None:
        """The def or lambda whose body holds `node` (its decorators and defaults are outside)."""
        scope = self.scopes.get(node)
        while scope is not None and not isinstance(scope, (cst.FunctionDef, cst.Lambda, cst.Module)):
            scope = self.scopes.get(scope) if not isinstance(scope, cst.ClassDef) else None
        return scope if isinstance(scope, (cst.FunctionDef, cst.Lambda)) else None

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def last_anchor(self, node: cst.CSTNode) -> Anchor:
        """The anchor of the last node of `node`'s subtree (pre-order: the subtree is one run)."""
        while True:
            last = None
            for name in _child_fields(type(node)):
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    last = value
                elif isinstance(value, (tuple, list)):
                    for item in value:
                        if isinstance(item, cst.CSTNode):
                            last = item
            if last is None or last not in self.anchors:
                return self.anchors[node]
            node = last

    def in_loop(self, node: cst.CSTNode) -> bool:
        """Whether `node` runs repeatedly in its function: inside a loop or a comprehension."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (cst.For, cst.While, cst.CompFor, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
                return True
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return False
        return False

    def within(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        """True when `node` is `ancestor` or lies under it."""
        current: cst.CSTNode | None = node
        while current is not None:
            if current is ancestor:
                return True
            current = self.parents.get(current)
        return False


# Children evaluated in the enclosing scope although they hang off a scope-opening node.
_OUTER_FIELDS: dict[type, tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "returns", "name", "type_parameters"),
    cst.ClassDef: ("decorators", "bases", "keywords", "name", "type_parameters"),
}


def descendants(node: cst.CSTNode):
    """Every node under `node` (whitespace and punctuation skipped), not descending into nested
    functions, lambdas or classes: their bodies run later, elsewhere."""
    stack = _children(node)
    while stack:
        current = stack.pop()
        yield current
        if type(current) not in _NESTED_BODIES:
            stack.extend(_children(current))


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    found = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if _IS_NODE.get(value_type) or (value_type not in _IS_NODE and _is_node_type(value_type)):
            found.append(value)
        elif value_type is tuple or value_type is list:
            found.extend(item for item in value if _is_node_type(type(item)))
    return found


class Located(NamedTuple):
    """Where an anchored node is (1-based lines, 0-based columns, as LibCST's PositionProvider
    gives them), and its text (for an `if`/`while`: the test's text too)."""

    start: tuple[int, int]
    end: tuple[int, int]
    code: str
    test: str


def locate(module: cst.Module, anchors: set[Anchor]) -> dict[Anchor, Located]:
    """Positions and source text of the nodes at `anchors`, by walking the tree again. Used when
    reporting, for the few files that have findings."""
    index = SyntaxIndex(module)
    wanted = {anchor: index.nodes[anchor] for anchor in anchors if 0 <= anchor < len(index.nodes)}
    positions = positions_of(module, set(wanted.values()))
    found = {}
    for anchor, node in wanted.items():
        test = getattr(node, "test", None)
        code = module.code_for_node(node)
        start, end = positions[node]
        found[anchor] = Located(start, end, code, module.code_for_node(test) if isinstance(test, cst.CSTNode) else code)
    return found


def positions_of(module: cst.Module, nodes: set[cst.CSTNode]) -> dict[cst.CSTNode, tuple[tuple[int, int], tuple[int, int]]]:
    """The same positions LibCST's PositionProvider gives, for `nodes` only, from one code
    generation pass that keeps nothing else (several times faster on a whole module)."""
    placer = _Placer(module, nodes)
    module._codegen(placer)
    return {node: placer.found[node] for node in nodes if node in placer.found}


class _NoRecord:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


_NO_RECORD = _NoRecord()


class _Placer(CodegenState):
    """Tracks line and column through code generation; records a node's syntactic range (what
    PositionProvider records) only for the nodes asked for and the children their ranges end on."""

    def __init__(self, module: cst.Module, wanted: set[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.tracked = set(wanted)
        self.line = 1
        self.column = 0
        self.found: dict[cst.CSTNode, tuple[tuple[int, int], tuple[int, int]]] = {}
        self._starts: list[tuple[int, int]] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        newlines = value.count("\n")
        if newlines:
            self.line += newlines
            self.column = len(value) - value.rfind("\n") - 1
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node in self.tracked and node not in self.found:
            self.found[node] = (start, (self.line, self.column))

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # type: ignore[override]
        if node not in self.tracked:
            return _NO_RECORD
        for hoisted in (start_node, end_node):
            if hoisted is not None:
                self.tracked.add(hoisted)
        return self._record(node, start_node, end_node)

    @contextmanager
    def _record(self, node, start_node, end_node):
        start = (self.line, self.column)
        yield
        end = (self.line, self.column)
        if start_node is not None and start_node in self.found:
            start = self.found[start_node][0]
        if end_node is not None and end_node in self.found:
            end = self.found[end_node][1]
        self.found[node] = (start, end)

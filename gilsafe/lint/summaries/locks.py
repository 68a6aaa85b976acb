"""Which locks are held where, inside each function: `with L:` bodies, `L.acquire()` ... `L.release()`
runs of statements (also `if not L.acquire(blocking=False): return`), `if L.acquire(False):` bodies,
and functions marked `@gilsafe.requires_lock("L")`.

Every `with X:` on state is a *candidate*: whether X is a lock is decided by the project pass, which
knows what was stored in X in every module (and the `lock-names`, `guarded-by` and
`requires_lock` annotations), so the order in which facts are found cannot change the answer.
Locks held by callers are added by the project pass too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import libcst as cst

from gilsafe.lint.summaries.base import ModuleAnalysis, Summary
from gilsafe.lint.summaries.bindings import Bindings
from gilsafe.lint.summaries.keys import LockId, StateKey, StateKind
from gilsafe.lint.summaries.state import State
from gilsafe.lint.summaries.values import Values

REQUIRES_LOCK = frozenset({"gilsafe.requires_lock"})
GUARDED_BY = re.compile(r"#\s*gilsafe:\s*guarded-by\s*=\s*([A-Za-z_][\w.]*)")
_EXITS = (cst.Return, cst.Raise, cst.Continue, cst.Break)


class Locks(Summary):
    DEPENDENCIES = (Bindings, State, Values)

    def __init__(self, analysis: ModuleAnalysis) -> None:
        super().__init__(analysis)
        self.bindings = analysis[Bindings]
        self.state = analysis[State]
        self.syntax = analysis.syntax
        # A block (a with's or an if's body) -> the locks held throughout it.
        self._regions: dict[cst.CSTNode, frozenset[LockId]] = {}
        # A statement -> locks acquired by earlier statements of its block and not yet released.
        self._acquired_before: dict[cst.CSTNode, frozenset[LockId]] = {}
        # Functions marked @requires_lock("L"), and state a `# gilsafe: guarded-by=L` comment names.
        self.required: dict[cst.CSTNode, LockId] = {}
        self.guarded_by: dict[StateKey, LockId] = {}
        self.candidates: set[LockId] = set()  # every expression used as a lock here
        self._memo: dict[cst.CSTNode, frozenset[LockId]] = {}
        self._find_regions()
        self._read_annotations()

    def _find_regions(self) -> None:
        syntax = self.syntax
        for node in syntax.of_type(cst.With):
            if node.asynchronous is not None:
                continue  # `async with lock:` is an asyncio lock: it orders coroutines, not threads
            locks = frozenset(lock for item in node.items if (lock := self._lock_expr(item.item)) is not None)
            if locks:
                # The items are evaluated before the lock is taken: only the body is guarded.
                self._regions[node.body] = locks
                self.candidates.update(locks)
        for node in syntax.of_type(cst.If):
            acquired = self._acquire_call(node.test)
            if acquired is not None:
                self._regions[node.body] = frozenset({acquired})
                self.candidates.add(acquired)
        for node in syntax.of_type(cst.IndentedBlock):
            self._scan_block(node.body)
        self._scan_block(syntax.module.body)

    def _lock_expr(self, expr: cst.BaseExpression) -> LockId | None:
        if isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript)):
            return self.state.lock_of(expr)
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and "lock" in expr.func.attr.value  # get_lock(), _lock_for(): not the Lock() factory
            and not expr.args
            and self.bindings.qualified(expr.func) is None  # a method of state, not a module function
        ):
            # `with cls.get_lock():`: the lock that method hands out, one per receiver
            holder = self.state.lock_of(expr.func.value) if not isinstance(expr.func.value, cst.Name) or self.state.self_class(expr.func.value) is None else None
            if holder is None and isinstance(expr.func.value, cst.Name) and (klass := self.state.self_class(expr.func.value)) is not None:
                return LockId(StateKey(StateKind.FIELD, self.bindings.class_dotted(klass), expr.func.attr.value + "()"))
            return LockId(holder.state.child(expr.func.attr.value + "()")) if holder is not None else None
        return None  # `with threading.Lock():` makes a fresh lock that guards nothing

    def _acquire_call(self, expr: cst.BaseExpression) -> LockId | None:
        """L for `L.acquire(...)` (as a condition: `if L.acquire(False):`)."""
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "acquire":
            return self._lock_expr(expr.func.value)
        return None

    def _scan_block(self, body: Sequence[cst.CSTNode]) -> None:
        """`L.acquire()` ... `L.release()` in one block: the statements between are guarded by L;
        `if not L.acquire(blocking=False): return` guards the rest of the block."""
        held: set[LockId] = set()
        for statement in body:
            if held:
                self._acquired_before[statement] = frozenset(held)
            call = _lone_call(statement)
            if call is not None and isinstance(call.func, cst.Attribute) and call.func.attr.value in ("acquire", "release"):
                lock = self._lock_expr(call.func.value)
                if lock is not None:
                    self.candidates.add(lock)
                    if call.func.attr.value == "acquire":
                        held.add(lock)
                    else:
                        held.discard(lock)
                continue
            if isinstance(statement, cst.If) and isinstance(statement.test, cst.UnaryOperation) and isinstance(statement.test.operator, cst.Not):
                lock = self._acquire_call(statement.test.expression)
                if lock is not None and statement.orelse is None and always_leaves(statement.body):
                    self.candidates.add(lock)
                    held.add(lock)
            if isinstance(statement, cst.Try) and statement.finalbody is not None:
                # `L.acquire()`, then `try: ... finally: L.release()`: the statements after the try run without L.
                held -= self._released_in(statement.finalbody.body.body)

    def _released_in(self, body: Sequence[cst.CSTNode]) -> set[LockId]:
        """The locks a block releases with a statement of its own (`L.release()`)."""
        released = set()
        for statement in body:
            call = _lone_call(statement)
            if call is not None and isinstance(call.func, cst.Attribute) and call.func.attr.value == "release":
                lock = self._lock_expr(call.func.value)
                if lock is not None:
                    released.add(lock)
        return released

    def _read_annotations(self) -> None:
        syntax = self.syntax
        for function in syntax.of_type(cst.FunctionDef):
            for decorator in function.decorators:
                call = decorator.decorator
                if not isinstance(call, cst.Call) or self.bindings.qualified(call.func) not in REQUIRES_LOCK or not call.args:
                    continue
                value = call.args[0].value
                if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
                    lock = self.named_lock(value.evaluated_value, function)
                    self.required[function] = lock
                    self.candidates.add(lock)
        text = self.analysis.text
        if "guarded-by" not in text:
            return
        wanted = {number: match.group(1) for number, line in enumerate(text.splitlines(), start=1) if (match := GUARDED_BY.search(line))}
        if not wanted:
            return
        positions = _statement_lines(self.analysis.module, syntax)
        values = self.analysis[Values]
        for statement, line in positions.items():
            name = wanted.get(line)
            if name is None:
                continue
            for target in _assign_targets(statement):
                key = values.target_key(target)
                if key is None:
                    continue
                lock = self.named_lock(name, target)
                self.guarded_by[key] = lock
                self.candidates.add(lock)

    def named_lock(self, name: str, where: cst.CSTNode) -> LockId:
        """`self._lock` or `_lock` written in a class's methods is that class's attribute; else a
        module global of that name."""
        klass = self._enclosing_class(where)
        bare = name.removeprefix("self.")
        if klass is not None and "." not in bare:
            return LockId(StateKey(StateKind.FIELD, self.bindings.class_dotted(klass), bare))
        head, *rest = name.split(".")
        return LockId(StateKey(StateKind.GLOBAL, self.analysis.module_name, head, tuple(rest)))

    def _enclosing_class(self, node: cst.CSTNode) -> cst.ClassDef | None:
        function = node if isinstance(node, cst.FunctionDef) else self.syntax.enclosing_function(node)
        while function is not None:
            klass = self.bindings.class_of_method(function)
            if klass is not None:
                return klass
            function = self.syntax.enclosing_function(function)
        return None

    # -- the question ---------------------------------------------------------------------------

    def held(self, node: cst.CSTNode) -> frozenset[LockId]:
        """The locks held where `node` runs, from its own function (callers: the project pass)."""
        found = self._memo.get(node)
        if found is not None:
            return found
        held: set[LockId] = set()
        current: cst.CSTNode | None = node
        parents = self.syntax.parents
        regions, before = self._regions, self._acquired_before
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda)):
            region = regions.get(current)
            if region:
                held |= region
            earlier = before.get(current)
            if earlier:
                held |= earlier
            current = parents.get(current)
        if current is not None and current in self.required:
            held.add(self.required[current])
        found = self._memo[node] = frozenset(held)
        return found


def _lone_call(statement: cst.CSTNode) -> cst.Call | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        expr = statement.body[0]
        if isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call):
            return expr.value
    return None


def always_leaves(body: cst.BaseSuite) -> bool:
    """True when a block ends by leaving: return, raise, continue or break."""
    statements = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else ()
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return bool(last.body) and isinstance(last.body[-1], _EXITS)
    return isinstance(last, _EXITS)


def _assign_targets(statement: cst.CSTNode) -> list[cst.BaseExpression]:
    if isinstance(statement, cst.SimpleStatementLine):
        found = []
        for small in statement.body:
            if isinstance(small, cst.Assign):
                found.extend(target.target for target in small.targets)
            elif isinstance(small, cst.AnnAssign):
                found.append(small.target)
        return found
    return []


def _statement_lines(module: cst.Module, syntax) -> dict[cst.CSTNode, int]:
    """The line each simple statement starts on (only computed when a file has annotations)."""
    from gilsafe.lint.summaries.syntax import positions_of

    lines = list(syntax.of_type(cst.SimpleStatementLine))
    positions = positions_of(module, set(lines))
    return {node: positions[node][0][0] for node in lines if node in positions}

"""Where this module makes code run in another thread: the thread entry sites.

`threading.Thread(target=f)`, `Timer`, `_thread.start_new_thread`, executors' `submit`/`map` (also
executors held in attributes or passed in), `loop.run_in_executor`, `asyncio.to_thread`,
`Future.add_done_callback`, `weakref.finalize` and `__del__` (the collector runs them in whatever
thread triggers it), `dask.delayed`, `joblib.Parallel` with threads, `socketserver`'s threading
servers, and configured helpers. What cannot be decided from one module (is this class a Thread
subclass? is this attribute an executor?) is recorded as a condition the project pass checks.

Each site also records where the thread starts and where the starting function has waited for it
(`join()`, `result()`, the end of a `with ThreadPoolExecutor()` block): writes before the start are
published to the thread, and reads after the wait see its writes.
"""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from gilsafe.lint.summaries.base import ModuleAnalysis, Summary
from gilsafe.lint.summaries.bindings import BindingKind, Bindings
from gilsafe.lint.summaries.keys import Anchor, FunctionId, HeldMethod, Kind, Method, Qualified, Ref, StateKey
from gilsafe.lint.summaries.state import State
from gilsafe.lint.summaries.values import Values, ValueKind

THREAD_CLASSES = frozenset({"threading.Thread", "threading.Timer"})
EXECUTOR_METHODS = frozenset(
    {"submit", "map", "apply", "apply_async", "map_async", "imap", "imap_unordered", "starmap", "starmap_async"}
)
# callee -> (keyword, position) of the argument that runs in a thread
DIRECT_ENTRIES: dict[str, tuple[str | None, int]] = {
    "threading.Thread": ("target", 1),
    "threading.Timer": ("function", 1),
    "_thread.start_new_thread": ("function", 0),
    "_thread.start_new": ("function", 0),
    "asyncio.to_thread": (None, 0),
    "dask.delayed": (None, 0),
    "dask.delayed.delayed": (None, 0),
    "weakref.finalize": (None, 1),
}
DASK_DELAYED = frozenset({"dask.delayed", "dask.delayed.delayed"})
JOBLIB_PARALLEL = frozenset({"joblib.Parallel", "sklearn.utils.parallel.Parallel"})
JOBLIB_DELAYED = frozenset({"joblib.delayed", "sklearn.utils.parallel.delayed"})
THREADING_SERVERS = frozenset(
    {
        "socketserver.ThreadingTCPServer", "socketserver.ThreadingUDPServer", "socketserver.ThreadingUnixStreamServer",
        "socketserver.ThreadingUnixDatagramServer", "http.server.ThreadingHTTPServer", "xmlrpc.server.SimpleXMLRPCServer",
    }
)
QUEUES = frozenset({"queue.Queue", "queue.SimpleQueue", "queue.LifoQueue", "queue.PriorityQueue"})
EVENTS = frozenset({"threading.Event", "threading.Barrier", "threading.Condition"})
WAITS = frozenset({"concurrent.futures.wait", "concurrent.futures.as_completed"})


class EntryKind(Kind):
    THREAD = "thread"  # Thread(target=...), a Thread subclass's constructor with a target
    TIMER = "timer"
    EXECUTOR = "executor"  # submit/map/apply... on an executor or a thread pool
    TO_THREAD = "to_thread"  # asyncio.to_thread, loop.run_in_executor, _thread.start_new_thread
    CALLBACK = "callback"  # Future.add_done_callback
    FINALIZER = "finalizer"  # weakref.finalize, __del__
    DASK = "dask"
    JOBLIB = "joblib"
    HANDLER = "handler"  # a request handler class of a threading socketserver
    CONFIGURED = "configured"  # `thread-entry-points` in [tool.gilsafe]


class Condition(Kind):
    """What the project pass must confirm before the site counts."""

    NONE = "none"
    THREAD_CLASS = "thread-class"  # the callee is threading.Thread or a subclass of it
    EXECUTOR = "executor"  # the receiver is an executor (what was stored in it, or its name)
    THREADING_SERVER = "threading-server"  # the callee is a socketserver with ThreadingMixIn
    THREAD_FUTURE = "thread-future"  # the receiver is a concurrent.futures Future (an executor's)


class EntrySite(NamedTuple):
    kind: EntryKind
    target: Ref | None  # what runs in the thread
    anchor: Anchor  # the call (or def) that makes it run
    function: FunctionId  # where the site is (FunctionId(module, "<module>") at the top level)
    repeated: bool  # may run in several threads at once: a pool, a loop, a handler
    description: str  # `threading.Thread(target=work)`, for messages
    condition: Condition = Condition.NONE
    subject: StateKey | Qualified | None = None  # the callee or executor the condition is about
    start: Anchor = 0  # where the thread starts running (the `.start()` call)
    join: Anchor | None = None  # the starting function has waited for it from here on
    # (position or keyword, the state or value passed) for the target's parameters
    arguments: tuple[tuple[int | str, object], ...] = ()


class Entries(Summary):
    DEPENDENCIES = (Bindings, State, Values)

    def __init__(self, analysis: ModuleAnalysis) -> None:
        super().__init__(analysis)
        self.bindings = analysis[Bindings]
        self.state = analysis[State]
        self.values = analysis[Values]
        self.syntax = analysis.syntax
        self.sites: list[EntrySite] = []
        self._configured = {spec.dotted: spec for spec in analysis.options.entry_points}
        self._module_function = FunctionId(analysis.module_name, "<module>")
        for call in self.syntax.of_type(cst.Call):
            self._note_call(call)
        for function in self.syntax.of_type(cst.FunctionDef):
            self._note_definition(function)

    # -- sites ----------------------------------------------------------------------------------

    def _note_call(self, call: cst.Call) -> None:
        qualified = self.bindings.qualified(call.func)
        if qualified in DIRECT_ENTRIES:
            keyword, position = DIRECT_ENTRIES[qualified]
            target = _argument(call.args, keyword, position)
            if target is None:
                return
            kind = {
                "threading.Thread": EntryKind.THREAD,
                "threading.Timer": EntryKind.TIMER,
                "weakref.finalize": EntryKind.FINALIZER,
            }.get(qualified, EntryKind.DASK if qualified in DASK_DELAYED else EntryKind.TO_THREAD)
            self._add(kind, target, call)
            return
        if qualified in self._configured:
            spec = self._configured[qualified]
            target = _argument(call.args, spec.keyword, spec.position)
            if target is not None:
                self._add(EntryKind.CONFIGURED, target, call, repeated=True)
            return
        if qualified in THREADING_SERVERS and len(call.args) >= 2:
            self._add(EntryKind.HANDLER, call.args[1].value, call, repeated=True)
            return
        keyword_target = _argument(call.args, "target", -1)
        if keyword_target is not None:
            callee = self.values.ref_of(call.func)
            if isinstance(callee, Qualified) and callee.name not in THREAD_CLASSES:
                # Maybe a Thread subclass called with target=: the project pass knows the classes.
                self._add(EntryKind.THREAD, keyword_target, call, condition=Condition.THREAD_CLASS, subject=callee)
                return
        if isinstance(call.func, cst.Call) and self.bindings.qualified(call.func.func) in JOBLIB_PARALLEL:
            self._note_joblib(call)
            return
        if not isinstance(call.func, cst.Attribute):
            if isinstance(call.func, cst.Name) and len(call.args) >= 2:
                callee = self.values.ref_of(call.func)
                if isinstance(callee, Qualified) and callee.name.rsplit(".", 1)[-1].lower().endswith("server"):
                    # A server class of the linted tree built on ThreadingMixIn: its handler runs in threads.
                    self._add(EntryKind.HANDLER, call.args[1].value, call, repeated=True, condition=Condition.THREADING_SERVER, subject=callee)
            return
        method = call.func.attr.value
        receiver = call.func.value
        if method == "run_in_executor":
            target = _argument(call.args, None, 1)
            if target is not None:
                self._add(EntryKind.TO_THREAD, target, call, repeated=True)
        elif method == "add_done_callback":
            # concurrent.futures runs the callback in the worker thread that finishes the future;
            # asyncio and tornado futures run it in their event loop's thread.
            target = _argument(call.args, "fn", 0)
            subject = self._future_subject(receiver)
            if target is not None and subject is not None:
                self._add(EntryKind.CALLBACK, target, call, repeated=True, condition=Condition.THREAD_FUTURE, subject=subject)
        elif method in EXECUTOR_METHODS:
            target = _argument(call.args, "fn" if method == "submit" else "func", 0)
            if target is None:
                return
            subject = self._executor_subject(receiver)
            if subject is not None:
                self._add(EntryKind.EXECUTOR, target, call, repeated=True, condition=Condition.EXECUTOR, subject=subject)

    def _executor_subject(self, receiver: cst.BaseExpression) -> StateKey | Qualified | None:
        """What the project pass must confirm is an executor: the factory called, or the state
        (or local) that holds the receiver."""
        if isinstance(receiver, cst.Call):
            callee = self.values.ref_of(receiver.func)
            return callee if isinstance(callee, Qualified) else None
        if isinstance(receiver, cst.Name):
            binding = self.bindings.resolve(receiver)
            if binding.kind is BindingKind.LOCAL:
                return self.values.target_key(receiver)
            if binding.kind is BindingKind.PARAM:
                key = self.values.target_key(receiver)
                return key if key is not None else _param_key(self, receiver)
        return self.state.key_of(receiver)

    def _future_subject(self, receiver: cst.BaseExpression) -> StateKey | Qualified | None:
        if isinstance(receiver, cst.Call):
            callee = self.values.ref_of(receiver.func)
            if isinstance(callee, Qualified):
                return callee
            if isinstance(callee, (Method, HeldMethod)) and callee.name in EXECUTOR_METHODS:
                return Qualified("concurrent.futures.Future")  # `ex.submit(f).add_done_callback(g)`
            return None
        if isinstance(receiver, cst.Name):
            return self.values.target_key(receiver) or self.state.key_of(receiver) or self.state.bare_argument(receiver)
        return self.state.key_of(receiver)

    def _note_joblib(self, call: cst.Call) -> None:
        """`Parallel(n_jobs=4, prefer="threads")(delayed(f)(x) for x in xs)`."""
        parallel = call.func
        assert isinstance(parallel, cst.Call)
        threaded = False
        for arg in parallel.args:
            if arg.keyword is None or not isinstance(arg.value, cst.SimpleString):
                continue
            value = arg.value.evaluated_value
            if (arg.keyword.value, value) in (("prefer", "threads"), ("backend", "threading"), ("require", "sharedmem")):
                threaded = True
        if not threaded:
            return
        for arg in call.args:
            tasks = arg.value
            element = tasks.elt if isinstance(tasks, (cst.GeneratorExp, cst.ListComp)) else None
            if isinstance(element, cst.Call) and isinstance(element.func, cst.Call):
                if self.bindings.qualified(element.func.func) in JOBLIB_DELAYED and element.func.args:
                    self._add(EntryKind.JOBLIB, element.func.args[0].value, call, repeated=True)

    def _note_definition(self, function: cst.FunctionDef) -> None:
        for decorator in function.decorators:
            target = decorator.decorator
            target = target.func if isinstance(target, cst.Call) else target
            if self.bindings.qualified(target) in DASK_DELAYED:
                self._add(EntryKind.DASK, function, decorator, repeated=True)
        if function.name.value == "__del__" and self.bindings.class_of_method(function) is not None:
            self._add(EntryKind.FINALIZER, function, function, repeated=True)

    def _add(
        self,
        kind: EntryKind,
        target: cst.CSTNode,
        site: cst.CSTNode,
        *,
        repeated: bool = False,
        condition: Condition = Condition.NONE,
        subject: StateKey | Qualified | None = None,
    ) -> None:
        ref = self.bindings.function_ids.get(target) if isinstance(target, (cst.FunctionDef, cst.Lambda)) else self.values.ref_of(target)
        if kind is EntryKind.HANDLER:
            handler = self.bindings.qualified(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
            ref = Qualified(handler) if handler else None
        if ref is None:
            return
        function = self.values.function_of(site) or self._module_function
        repeated = repeated or kind in (EntryKind.FINALIZER, EntryKind.DASK) or self.syntax.in_loop(site)
        description = self._describe(kind, target, site)
        start, join = self._lifetime(kind, site)
        arguments = self._arguments(kind, target, site) if isinstance(site, cst.Call) else ()
        self.sites.append(
            EntrySite(kind, ref, self.syntax.anchors[site], function, repeated, description, condition, subject, start, join, arguments)
        )

    def _arguments(self, kind: EntryKind, target: cst.CSTNode, call: cst.Call) -> tuple:
        """What the target's parameters receive: `args=`/`kwargs=` of a Thread or Timer, the
        arguments after the callable for submit, to_thread and run_in_executor, and what a
        `functools.partial` target binds first."""
        bound: list = []
        if isinstance(target, cst.Call) and target.args and self.bindings.qualified(target.func) == "functools.partial":
            bound = list(self.values.arguments(target.args, skip=1))
        if kind in (EntryKind.THREAD, EntryKind.TIMER):
            positional = _argument(call.args, "args", -1)
            keywords = _argument(call.args, "kwargs", -1)
            found = []
            if isinstance(positional, (cst.Tuple, cst.List)):
                found.extend(self.values.arguments([cst.Arg(e.value) for e in positional.elements if not isinstance(e, cst.StarredElement)]))
            if isinstance(keywords, cst.Dict):
                for element in keywords.elements:
                    if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                        value = self.values.argument_value(element.value)
                        if value is not None:
                            found.append((element.key.evaluated_value, value))
        elif kind is EntryKind.TO_THREAD and isinstance(call.func, cst.Attribute) and call.func.attr.value == "run_in_executor":
            found = list(self.values.arguments(call.args, skip=2))
        elif kind in (EntryKind.TO_THREAD, EntryKind.EXECUTOR, EntryKind.CONFIGURED) and not (isinstance(call.func, cst.Attribute) and call.func.attr.value in ("map", "imap", "imap_unordered", "map_async", "starmap", "starmap_async")):
            found = [a for a in self.values.arguments(call.args, skip=1) if not isinstance(a[0], str) or a[0] not in ("fn", "func", "target")]
        else:
            return tuple(bound)
        shift = len([a for a in bound if isinstance(a[0], int)])
        return tuple(bound) + tuple((p + shift if isinstance(p, int) else p, v) for p, v in found)

    def _describe(self, kind: EntryKind, target: cst.CSTNode, site: cst.CSTNode) -> str:
        module = self.analysis.module
        if isinstance(site, cst.Call):
            func = module.code_for_node(site.func)
            if isinstance(site.func, cst.Call):
                func = module.code_for_node(site.func.func) + "(...)"
            keyword = next((a.keyword.value for a in site.args if a.keyword is not None and a.value is target), None)
            shown = _clip(module.code_for_node(target)) if isinstance(target, cst.BaseExpression) else ""
            return f"{_clip(func, 50)}({keyword + '=' if keyword else ''}{shown})"
        if isinstance(target, cst.FunctionDef):
            if kind is EntryKind.FINALIZER:
                return f"`{target.name.value}` (the garbage collector runs it in any thread)"
            return f"@{_clip(module.code_for_node(site.decorator if isinstance(site, cst.Decorator) else target.name))} {target.name.value}"
        return kind.value

    # -- when the thread starts and when its starter waits for it -------------------------------

    def _lifetime(self, kind: EntryKind, site: cst.CSTNode) -> tuple[Anchor, Anchor | None]:
        anchors = self.syntax.anchors
        start = anchors[site]
        if not isinstance(site, cst.Call) or kind in (EntryKind.FINALIZER, EntryKind.CALLBACK, EntryKind.HANDLER):
            return start, None
        function = self.syntax.enclosing_function(site)
        handles = self._handles(site)
        if kind in (EntryKind.THREAD, EntryKind.TIMER):
            parent = self.syntax.parent(site)
            grand = self.syntax.parent(parent) if parent is not None else None
            if not (isinstance(parent, cst.Attribute) and parent.attr.value == "start" and isinstance(grand, cst.Call)):
                starts = [anchors[c] for c, receiver in self._method_calls(function, "start") if receiver in handles and anchors[c] > start]
                start = min(starts) if starts else start
        join = None
        for call, receiver in self._method_calls(function, "join", "result", "wait", "shutdown", "get"):
            at = anchors[call]
            if at <= start:
                continue
            method = call.func.attr.value
            if method == "get" and not self._holds(call.func.value, QUEUES):
                continue
            if method == "wait" and not (self._holds(call.func.value, EVENTS) or receiver in handles):
                continue
            if method in ("join",) and handles and receiver not in handles:
                continue
            if method in ("result", "shutdown") and kind not in (EntryKind.EXECUTOR, EntryKind.TO_THREAD, EntryKind.JOBLIB, EntryKind.DASK):
                continue
            join = at if join is None else min(join, at)
        for call in self.syntax.of_type(cst.Call):
            if self.bindings.qualified(call.func) in WAITS and anchors[call] > start and self.syntax.enclosing_function(call) is function:
                join = anchors[call] if join is None else min(join, anchors[call])
        if kind is EntryKind.EXECUTOR:
            block = self._executor_block(site)
            if block is not None:
                end = self.syntax.last_anchor(block)
                join = end if join is None else min(join, end)
        return start, join

    def _handles(self, site: cst.Call) -> set[str]:
        """Names the thread object is known by in its function: `t = Thread(...)`, the list it is
        put in (`threads = [Thread(...) for ...]`, `threads.append(Thread(...))`), and loop
        variables over that list."""
        names: set[str] = set()
        current: cst.CSTNode | None = site
        for ancestor in self.syntax.ancestors(site):
            if isinstance(ancestor, cst.Assign):
                for target in ancestor.targets:
                    if isinstance(target.target, cst.Name):
                        names.add(target.target.value)
                break
            if isinstance(ancestor, cst.Call) and isinstance(ancestor.func, cst.Attribute) and ancestor.func.attr.value == "append":
                if isinstance(ancestor.func.value, cst.Name):
                    names.add(ancestor.func.value.value)
                break
            if isinstance(ancestor, (cst.SimpleStatementLine, cst.FunctionDef, cst.Lambda)):
                break
            current = ancestor
        function = self.syntax.enclosing_function(site)
        for loop in self.syntax.of_type(cst.For):
            if isinstance(loop.iter, cst.Name) and loop.iter.value in names and isinstance(loop.target, cst.Name):
                if self.syntax.enclosing_function(loop) is function:
                    names.add(loop.target.value)
        return names

    def _method_calls(self, function: cst.CSTNode | None, *methods: str) -> list[tuple[cst.Call, str | None]]:
        found = []
        for call in self.syntax.of_type(cst.Call):
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in methods and self.syntax.enclosing_function(call) is function:
                receiver = call.func.value
                found.append((call, receiver.value if isinstance(receiver, cst.Name) else None))
        return found

    def _holds(self, expr: cst.BaseExpression, factories: frozenset[str]) -> bool:
        key = self.values.target_key(expr) if isinstance(expr, cst.Name) else self.state.key_of(expr)
        if key is None:
            return False
        return any(
            source.kind is ValueKind.CALL and isinstance(source.ref, Qualified) and source.ref.name in factories
            for source in self.values.sources.get(key, ())
        )

    def _executor_block(self, site: cst.Call) -> cst.With | None:
        """The `with ThreadPoolExecutor() as ex:` block whose executor runs the submitted task."""
        receiver = site.func.value if isinstance(site.func, cst.Attribute) else None
        if not isinstance(receiver, cst.Name):
            return None
        for ancestor in self.syntax.ancestors(site):
            if isinstance(ancestor, cst.With):
                for item in ancestor.items:
                    if item.asname is not None and isinstance(item.asname.name, cst.Name) and item.asname.name.value == receiver.value:
                        return ancestor
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                return None
        return None


def _param_key(entries: Entries, name: cst.Name) -> StateKey | None:
    return entries.state.bare_argument(name)


def _argument(args: tuple[cst.Arg, ...] | list[cst.Arg], keyword: str | None, position: int) -> cst.BaseExpression | None:
    for arg in args:
        if keyword and arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    if position < 0:
        return None
    positional = [a for a in args if a.keyword is None and not a.star]
    if position < len(positional):
        return positional[position].value
    return None


def _clip(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."

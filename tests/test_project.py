"""Whole projects: several modules linked into one analysis (imports, re-exports, calls, classes,
instances and threads crossing modules), the concurrency signals without a thread start in sight,
the dispatch Python does implicitly, and happens-before. Each project is in-memory, written here."""

import textwrap

import pytest

from gilsafe.lint.api import lint_sources
from gilsafe.lint.config import Settings


def lint(files, settings=None):
    report = lint_sources({path: textwrap.dedent(source).lstrip("\n") for path, source in files.items()}, settings or Settings())
    return report.findings


def codes(files, settings=None):
    return sorted((f.path, f.line, f.code) for f in lint(files, settings) if f.code != "GS001")


# -- modules linked --------------------------------------------------------------------------------

WORKERS = {
    "app/__init__.py": """
        from app.workers import run  # re-exported: `from app import run`
    """,
    "app/main.py": """
        import threading
        from app import run

        def start():
            for _ in range(4):
                threading.Thread(target=run).start()
    """,
    "app/workers.py": """
        from app import tally
        from app.jobs import next_job

        def run():
            job = next_job()
            tally.count(job)
    """,
    "app/jobs.py": """
        PENDING = {"a": 1}

        def next_job():
            if PENDING:
                return PENDING.popitem()[0]
    """,
    "app/tally.py": """
        # imports nothing about threads
        COUNTS = {}

        def count(key):
            COUNTS[key] = COUNTS.get(key, 0) + 1
    """,
}


def test_a_thread_started_in_one_module_reaches_code_in_three_others():
    found = codes(WORKERS)
    assert ("app/tally.py", 5, "GS101") in found, found
    assert ("app/jobs.py", 4, "GS103") in found, found


def test_the_finding_shows_the_chain_across_files():
    finding = next(f for f in lint(WORKERS) if f.path == "app/tally.py")
    assert [str(link) for link in finding.chain] == [
        "app/main.py:6 threading.Thread(target=run)",
        "app/workers.py:6 run()",
    ]
    assert finding.full_message.endswith(
        "(runs in a thread: app/main.py:6 threading.Thread(target=run) -> app/workers.py:6 run() -> app/tally.py:5)"
    )


def test_class_hierarchy_and_instances_across_modules():
    found = codes(
        {
            "pkg/__init__.py": "",
            "pkg/base.py": """
                import threading

                class Worker(threading.Thread):
                    def run(self):
                        self.step()
                    def step(self):
                        pass
            """,
            "pkg/counter.py": """
                class Counter:
                    def __init__(self):
                        self.n = 0
                    def bump(self):
                        self.n += 1

                SHARED = Counter()
            """,
            "pkg/impl.py": """
                from pkg.base import Worker
                from pkg.counter import SHARED

                class Bumper(Worker):  # a Thread subclass through a base in another module
                    def step(self):
                        SHARED.bump()

                def start():
                    for _ in range(2):
                        Bumper().start()
            """,
        }
    )
    assert ("pkg/counter.py", 5, "GS101") in found, found


def test_functions_returned_by_factories_run_in_the_thread():
    found = codes(
        {
            "m.py": """
                import threading
                hits = 0
                def make_worker():
                    def work():
                        global hits
                        hits += 1
                    return work
                for _ in range(2):
                    threading.Thread(target=make_worker()).start()
            """
        }
    )
    assert ("m.py", 6, "GS101") in found


# -- concurrency without a visible thread start ----------------------------------------------------

LOCKED_CACHE = {
    "cache.py": """
        import threading

        class Cache:
            def __init__(self):
                self._lock = threading.Lock()
                self._data = {}

            def put(self, key, value):
                with self._lock:
                    self._data[key] = value

            def drop_old(self):
                for key in self._data:  # iterated without the lock put() takes
                    pass
    """,
    "client.py": """
        from cache import Cache

        CACHE = Cache()

        def remember(key, value):
            CACHE.put(key, value)
    """,
}


def test_a_lock_owning_class_used_from_another_module_with_no_thread_start():
    assert ("cache.py", 13, "GS104") in codes(LOCKED_CACHE)


def test_a_declared_thread_safe_class():
    stats = """
        import gilsafe

        @gilsafe.thread_safe
        class Stats:
            def __init__(self):
                self.requests = 0
            def record(self):
                self.requests += 1
    """
    stats = textwrap.dedent(stats)
    assert ("stats.py", 8, "GS101") in codes({"stats.py": stats})
    undeclared = stats.replace("@gilsafe.thread_safe\n", "")
    assert codes({"stats.py": undeclared}) == []
    by_config = Settings(thread_safe=("stats:Stats",))
    assert ("stats.py", 7, "GS101") in codes({"stats.py": undeclared}, by_config)
    by_module = Settings(thread_safe=("stats:*",))
    assert ("stats.py", 7, "GS101") in codes({"stats.py": undeclared}, by_module)


def test_a_module_declared_thread_safe_shares_no_per_call_state():
    """`mod:*` declares the module's functions and classes an API many threads call (the pytest
    plugin declares test modules so). A class made inside one of those functions, or a closure
    cell of one, is made anew by each call, so each thread has its own; module state is shared."""
    tests = textwrap.dedent(
        """
        hits = 0

        def test_local_class():
            class Car:
                def __init__(self):
                    self.wheels = 0
                def fit(self):
                    self.wheels += 1
            car = Car()
            car.fit()

        def test_closure():
            calls = 0
            def once():
                nonlocal calls
                calls += 1
            once()

        def test_module_state():
            global hits
            hits += 1
        """
    )
    assert codes({"test_mod.py": tests}, Settings(thread_safe=("test_mod:*",))) == [("test_mod.py", 21, "GS101")]


# -- entry points ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        "from joblib import Parallel, delayed\nParallel(n_jobs=2, prefer='threads')(delayed(work)() for _ in range(4))",
        "from joblib import Parallel, delayed\nParallel(n_jobs=2, backend='threading')(delayed(work)() for _ in range(4))",
        "import socketserver\nclass H(socketserver.BaseRequestHandler):\n    def handle(self):\n        work()\nsocketserver.ThreadingTCPServer(('', 0), H)",
        "from concurrent.futures import ThreadPoolExecutor\nclass S:\n    def __init__(self):\n        self._executor = ThreadPoolExecutor()\n    def go(self):\n        self._executor.submit(work)",
        "def go(executor):\n    executor.submit(work)\n    executor.submit(work)",
        "from concurrent.futures import ThreadPoolExecutor\nwith ThreadPoolExecutor() as ex:\n    ex.submit(lambda: 1).add_done_callback(lambda f: work())",
    ],
    ids=["joblib-prefer-threads", "joblib-threading", "threading-server-handler", "executor-attribute", "executor-parameter", "done-callback"],
)
def test_entry_points(start):
    source = "import threading\nn = 0\ndef work():\n    global n\n    n += 1\n" + start + "\n"
    assert ("m.py", 5, "GS101") in codes({"m.py": source}), start


def test_joblib_with_processes_is_not_a_thread_entry():
    source = "n = 0\ndef work():\n    global n\n    n += 1\nfrom joblib import Parallel, delayed\nParallel(n_jobs=2)(delayed(work)() for _ in range(4))\n"
    assert codes({"m.py": source}) == []


def test_a_configured_wrapper_names_its_callable_argument():
    files = {
        "mylib/__init__.py": "",
        "mylib/util.py": "import threading\ndef spawn(name, target):\n    threading.Thread(target=target, name=name)\n",
        "m.py": "from mylib.util import spawn\nn = 0\ndef work():\n    global n\n    n += 1\nspawn('a', work)\nspawn('b', work)\n",
    }
    assert ("m.py", 5, "GS101") in codes(files, Settings(thread_entry_points=("mylib.util:spawn(1)",)))


def test_finalizers_count_only_in_preview():
    source = """
        import threading
        import weakref
        REGISTRY = {}
        def forget(key):
            del REGISTRY[key]
        def add(key):
            REGISTRY[key] = object()
        class Handle:
            def __init__(self, key):
                self.key = key
                weakref.finalize(self, forget, key)
        for i in range(2):
            threading.Thread(target=add, args=(i,)).start()
    """
    assert not [c for c in codes({"m.py": source}) if c[1] == 5]
    assert ("m.py", 5, "GS102") in codes({"m.py": source}, Settings(preview=True))


# -- dispatch the analysis follows -------------------------------------------------------------------


@pytest.mark.parametrize(
    "use",
    ["box['k']", "'k' in box", "len(box)", "list(iter(box))", "[x for x in box]", "box.total"],
    ids=["getitem", "contains", "len", "iter", "for", "property"],
)
def test_dunder_methods_and_properties_are_calls(use):
    source = f"""
        import threading
        class Box:
            hits = 0
            def _touch(self):
                Box.hits += 1
            def __getitem__(self, key):
                self._touch()
            def __contains__(self, key):
                self._touch()
                return True
            def __len__(self):
                self._touch()
                return 0
            def __iter__(self):
                self._touch()
                return iter(())
            @property
            def total(self):
                self._touch()
                return 0
        box = Box()
        def work():
            {use}
        for _ in range(2):
            threading.Thread(target=work).start()
    """
    assert ("m.py", 5, "GS101") in codes({"m.py": source}), use


def test_with_self_calls_enter():
    source = """
        import threading
        class Session:
            opened = 0
            def __enter__(self):
                Session.opened += 1
                return self
            def __exit__(self, *exc):
                return False
            def use(self):
                with self:
                    pass
        s = Session()
        for _ in range(2):
            threading.Thread(target=s.use).start()
    """
    assert ("m.py", 5, "GS101") in codes({"m.py": source})


def test_metaclass_call_and_cls_in_classmethods():
    source = """
        import threading
        class Memo(type):
            def __call__(cls, *args):
                if args not in cls._cache:
                    cls._cache[args] = super().__call__(*args)
                return cls._cache[args]
        class Locale(metaclass=Memo):
            _cache = {}
            @classmethod
            def parse(cls, text):
                return cls(text)
        def work(text):
            return Locale.parse(text)
        for _ in range(2):
            threading.Thread(target=work, args=("en",)).start()
    """
    assert ("m.py", 4, "GS103") in codes({"m.py": source})


def test_class_state_in_new_is_shared_not_under_construction():
    # `cls` in `__new__` is the class every instance shares; only `__init__`'s `self` is new.
    source = """
        import threading
        class Bar:
            _lock = threading.Lock()
            def __new__(cls, *args):
                if not hasattr(cls, "_instances"):
                    cls._instances = set()
                obj = super().__new__(cls)
                with cls._lock:
                    cls._instances.add(obj)
                return obj
            def __init__(self, total):
                self.total = total
                self.done = []
            def close(self):
                with self._lock:
                    self._instances.discard(self)
        def progress(total):
            return Bar(total)
    """
    assert codes({"m.py": source}) == [("m.py", 5, "GS103")]


def test_a_constructors_call_does_not_break_the_callers_locking():
    # Every call but the constructor's check holds the owner's lock; the constructor's runs
    # before the object is shared.
    source = """
        import threading
        class Table:
            def __init__(self):
                self._lock = threading.Lock()
                self.rows = {}
            def lookup(self, key):
                if key not in self.rows:
                    self.rows[key] = len(self.rows)
                return self.rows[key]
            def reload(self, rows):
                with self._lock:
                    self.rows = dict(rows)
        class Service:
            def __init__(self):
                self._lock = threading.Lock()
                self.table = Table()
                self.table.lookup("probe")  # a sanity check before anything runs
            def handle(self, key):
                with self._lock:
                    return self.table.lookup(key)
            def refresh(self, rows):
                with self._lock:
                    self.table.reload(rows)
        service = Service()
        for key in "ab":
            threading.Thread(target=service.handle, args=(key,)).start()
    """
    assert codes({"m.py": source}) == []
    # Without the lock in `handle`, two threads run the check-then-act at once.
    assert ("m.py", 7, "GS103") in codes({"m.py": source.replace("            with self._lock:\n                    return self.table.lookup(key)", "            return self.table.lookup(key)")})


def test_a_bound_method_stored_in_an_attribute():
    source = """
        import threading
        class Log:
            def __init__(self):
                self.lines = []
                self._push = self.lines.append
            def flush(self):
                for line in self.lines:
                    print(line)
                self.lines.clear()
            def write(self, text):
                self._push(text)
        log = Log()
        threading.Thread(target=log.flush).start()
        threading.Thread(target=log.write, args=("x",)).start()
    """
    assert ("m.py", 10, "GS101") not in codes({"m.py": source})
    assert any(code == "GS104" for _, _, code in codes({"m.py": source.replace("self.lines = []", "self.lines = {}").replace("self.lines.append", "self.lines.setdefault")}))


def test_an_attribute_of_an_imported_function_or_class_is_not_a_global():
    # `wrapped.cache_clear()` names a function object's attribute: no module state, no crash.
    files = {
        "pkg/util.py": """
            import functools
            @functools.lru_cache()
            def wrapped():
                return 1
            class Config:
                @classmethod
                def configure(cls):
                    return cls
        """,
        "pkg/__init__.py": """
            from pkg.util import wrapped, Config
        """,
        "pkg/run.py": """
            import threading
            import pkg
            def work():
                pkg.wrapped.cache_clear()
                pkg.Config.configure.cache_clear()
            threading.Thread(target=work).start()
        """,
    }
    assert codes(files) == []


def test_module_state_through_a_default_argument():
    source = """
        import threading
        FLAGS = {}
        def work(key, flags=FLAGS):
            if key not in flags:
                flags[key] = True
        for i in range(2):
            threading.Thread(target=work, args=(i,)).start()
    """
    assert ("m.py", 4, "GS103") in codes({"m.py": source})


def test_six_iteritems_is_a_live_view():
    source = """
        import threading
        import six
        STATS = {}
        def record(key):
            STATS[key] = 1
        def report():
            for key, value in six.iteritems(STATS):
                print(key, value)
        threading.Thread(target=record, args=("a",)).start()
        threading.Thread(target=report).start()
    """
    assert ("m.py", 7, "GS104") in codes({"m.py": source})


def test_a_container_passed_to_two_thread_targets_is_shared():
    source = """
        import threading
        def fill(seen, key):
            if key not in seen:
                seen[key] = True
        def main():
            seen = {}
            threading.Thread(target=fill, args=(seen, 1)).start()
            threading.Thread(target=fill, args=(seen, 2)).start()
    """
    assert ("m.py", 3, "GS103") in codes({"m.py": source})
    each_its_own = source.replace("args=(seen, 1)", "args=({}, 1)").replace("args=(seen, 2)", "args=({}, 2)")
    assert codes({"m.py": each_its_own}) == []


def test_a_thread_subclass_attributes_are_shared_with_callers_of_its_methods():
    source = """
        import threading
        class Poller(threading.Thread):
            def __init__(self):
                super().__init__()
                self.seen = {}
            def run(self):
                for key in self.seen:
                    pass
            def watch(self, key):
                self.seen[key] = True
        poller = Poller()
        poller.start()
        for name in ("a", "b"):
            threading.Thread(target=poller.watch, args=(name,)).start()
    """
    assert ("m.py", 7, "GS104") in codes({"m.py": source})


def test_each_thread_subclass_object_is_its_own():
    source = """
        import threading
        class Worker(threading.Thread):
            def __init__(self):
                super().__init__()
                self.done = 0
            def run(self):
                self.done += 1
        for _ in range(4):
            Worker().start()
    """
    assert codes({"m.py": source}) == []


# -- happens-before, ownership, immutability --------------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        "STATE.clear()\nthreads = [threading.Thread(target=work) for _ in range(2)]\nfor t in threads:\n    t.start()",
        "threads = [threading.Thread(target=work) for _ in range(2)]\nfor t in threads:\n    t.start()\nfor t in threads:\n    t.join()\nSTATE.clear()",
        "with ThreadPoolExecutor() as ex:\n    ex.submit(work)\n    ex.submit(work)\nSTATE.clear()",
        "ex = ThreadPoolExecutor()\nf = ex.submit(work)\nf.result()\nSTATE.clear()",
        "q = queue.Queue()\nt = threading.Thread(target=work)\nt.start()\nq.get()\nSTATE.clear()",
        "done = threading.Event()\nt = threading.Thread(target=work)\nt.start()\ndone.wait()\nSTATE.clear()",
    ],
    ids=["before-start", "after-join", "after-with-executor", "after-result", "after-queue-get", "after-event-wait"],
)
def test_happens_before_orders_the_main_threads_accesses(order):
    source = "import threading, queue\nfrom concurrent.futures import ThreadPoolExecutor\nSTATE = {}\ndef work():\n    STATE['k'] = 1\ndef main():\n" + textwrap.indent(order, "    ") + "\n"
    found = codes({"m.py": source}, Settings(preview=True))
    assert not [c for c in found if c[2] == "GS102" and c[1] > 6], found


def test_an_object_made_in_the_thread_and_not_published_is_owned():
    source = """
        import threading
        class Box:
            def __init__(self):
                self.n = 0
        def work():
            box = Box()
            box.n += 1
            return box
        for _ in range(2):
            threading.Thread(target=work).start()
    """
    assert codes({"m.py": source}) == []


def test_fields_written_only_in_init_are_immutable():
    source = """
        import threading
        class Config:
            def __init__(self):
                self.names = {}
                self.names["a"] = 1
            def show(self):
                for name in self.names:
                    print(name)
        config = Config()
        for _ in range(2):
            threading.Thread(target=config.show).start()
    """
    assert codes({"m.py": source}) == []

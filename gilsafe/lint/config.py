"""`[tool.gilsafe]` in pyproject.toml: found upward from each path, validated, loaded once."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import pathspec

from gilsafe.errors import ConfigError
from gilsafe.pyproject import load_toml
from gilsafe.lint.summaries.base import EntryPointSpec, SummaryOptions


ALWAYS_ON = "GS000"  # parse failures cannot be switched off: nothing else in the file was checked

KNOWN_KEYS = (
    "select",
    "ignore",
    "extend-select",
    "exclude",
    "per-file-ignores",
    "numba-version",
    "lock-names",
    "thread-entry-points",
    "thread-safe",
    "reproducible",
    "preview",
    "target",
    # read by the pytest plugin (gilsafe/pytest_plugin/single.py), not by lint
    "thread-unsafe-fixtures",
    "thread-unsafe-calls",
)
TARGETS = ("gil", "free-threaded")


def running_target() -> str:
    """The kind of interpreter running gilsafe: what `--target` defaults to."""
    gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return "free-threaded" if gil_enabled is not None and not gil_enabled() else "gil"


@dataclass(frozen=True)
class Settings:
    """Everything that changes what lint reports for a file; hashed into the cache key."""

    select: tuple[str, ...] = ("GS",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    numba_version: tuple[int, ...] = (0, 59)
    lock_names: tuple[str, ...] = ()
    thread_entry_points: tuple[str, ...] = ()  # "mylib.spawn" or "mylib.util:spawn(target)"
    thread_safe: tuple[str, ...] = ()  # public API many threads call at once: "pkg.mod:Class", "pkg.api:*"
    reproducible: bool = False  # runs are expected to repeat exactly once seeded (GS401)
    preview: bool = False  # also report on lower-confidence evidence (see docs/configuration.rst)
    # Some patterns are safe under the GIL and racy without it; rules report them only for this target.
    target: str = field(default_factory=running_target)
    root: str = "."  # the folder of the config file; per-file-ignores and excludes are relative to it
    source: str = field(default="", compare=False)  # the file the settings came from, for messages

    def enabled_codes(self, known: Iterable[str]) -> frozenset[str]:
        """Rule codes on after select, extend-select and ignore (codes or prefixes, as in ruff)."""
        return _enabled_codes(self.select + self.extend_select, self.ignore, tuple(known))

    def fingerprint(self) -> str:
        return repr(replace(self, source=""))

    @property
    def known_codes(self) -> tuple[str, ...]:
        from gilsafe.rules import ALL_RULES

        return tuple(ALL_RULES)

    def summary_options(self) -> SummaryOptions:
        """The settings that change a module's summary."""
        return SummaryOptions(tuple(self.lock_names), tuple(entry_point_spec(text) for text in self.thread_entry_points))


@lru_cache(maxsize=64)  # asked for every file, with the same few settings
def _enabled_codes(selected: tuple[str, ...], ignored: tuple[str, ...], known: tuple[str, ...]) -> frozenset[str]:
    on = {code for code in known if _matches(code, selected)}
    return frozenset(code for code in on if not _matches(code, ignored))


def _matches(code: str, selectors: Iterable[str]) -> bool:
    return any(selector == "ALL" or code.startswith(selector) for selector in selectors)


def check_codes(selectors: Iterable[str], known: Iterable[str], where: str) -> None:
    known = tuple(known) + (ALWAYS_ON,)
    for selector in selectors:
        if selector != "ALL" and not any(code.startswith(selector) for code in known):
            raise ConfigError(f"{where}: unknown rule code or prefix {selector!r} (see `gilsafe rules`)")


def _strings(value: object, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return tuple(value)


def settings_from_table(table: Mapping[str, object], *, root: str, where: str, known_codes: Iterable[str]) -> Settings:
    """Validate a `[tool.gilsafe]` table (keys as in pyproject.toml) into Settings."""
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} in [tool.gilsafe] (known: {', '.join(KNOWN_KEYS)})")
    known_codes = tuple(known_codes)
    values: dict[str, object] = {"root": root, "source": where}
    for key in ("select", "ignore", "extend-select"):
        if key in table:
            codes = tuple(c.upper() for c in _strings(table[key], key, where))
            check_codes(codes, known_codes, where)
            values[key.replace("-", "_")] = codes
    for key in ("exclude", "lock-names", "thread-entry-points", "thread-safe"):
        if key in table:
            values[key.replace("-", "_")] = _strings(table[key], key, where)
    for text in values.get("thread_entry_points", ()):
        if _ENTRY_POINT.fullmatch(text) is None:
            raise ConfigError(f"{where}: `thread-entry-points`: {text!r} is not `module.function` or `module:function(argument)`")
    for text in values.get("thread_safe", ()):
        if _THREAD_SAFE.fullmatch(text) is None:
            raise ConfigError(f"{where}: `thread-safe`: {text!r} is not `package.module:Name` or `package.module:*`")
    for key in ("reproducible", "preview"):
        if key in table:
            if not isinstance(table[key], bool):
                raise ConfigError(f"{where}: `{key}` must be true or false")
            values[key] = table[key]
    if "per-file-ignores" in table:
        raw = table["per-file-ignores"]
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [codes]")
        pairs = []
        for pattern, codes in raw.items():
            codes = tuple(c.upper() for c in _strings(codes, f"per-file-ignores.{pattern}", where))
            check_codes(codes, known_codes, where)
            pairs.append((pattern, codes))
        values["per_file_ignores"] = tuple(pairs)
    if "target" in table:
        if table["target"] not in TARGETS:
            raise ConfigError(f"{where}: `target` must be one of {', '.join(TARGETS)}, not {table['target']!r}")
        values["target"] = table["target"]
    if "numba-version" in table:
        values["numba_version"] = parse_version(table["numba-version"], where)
    return Settings(**values)


_ENTRY_POINT = re.compile(r"[A-Za-z_][\w.]*(?::[A-Za-z_][\w.]*)?(?:\(\s*(?:[A-Za-z_]\w*|\d+)\s*\))?")
_THREAD_SAFE = re.compile(r"[A-Za-z_][\w.]*:(?:\*|[A-Za-z_][\w.]*)")


def entry_point_spec(text: str) -> EntryPointSpec:
    """`mylib.spawn` (the callable is `target=` or the first argument), `mylib.util:spawn(target)`
    (by name, or first), `mylib.util:spawn(1)` (by position)."""
    head, _, argument = text.partition("(")
    dotted = head.strip().replace(":", ".")
    argument = argument.rstrip(") ").strip()
    if argument.isdigit():
        return EntryPointSpec(dotted, None, int(argument))
    return EntryPointSpec(dotted, argument or "target", 0)


def ignored_codes(path: str, settings: Settings) -> set[str]:
    """Codes per-file-ignores switches off for this file (globs relative to the config's folder)."""
    if not settings.per_file_ignores:
        return set()
    absolute = Path(path).absolute()
    try:
        relative = absolute.relative_to(Path(settings.root).absolute()).as_posix()
    except ValueError:
        relative = absolute.as_posix()
    ignored: set[str] = set()
    for pattern, codes in settings.per_file_ignores:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern])
        if spec.match_file(relative) or spec.match_file(Path(path).name):
            ignored.update(codes)
    return ignored


def parse_version(value: object, where: str) -> tuple[int, ...]:
    try:
        parts = tuple(int(part) for part in str(value).split("."))
    except ValueError:
        parts = ()
    if not parts or not isinstance(value, str):
        raise ConfigError(f"{where}: `numba-version` must be a version string such as \"0.58\", not {value!r}")
    return parts


def read_pyproject(path: Path, known_codes: Iterable[str]) -> Settings | None:
    """Settings from a pyproject.toml's [tool.gilsafe], or None when it has no such table."""
    data = load_toml(path)
    table = data.get("tool", {}).get("gilsafe")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.gilsafe] must be a table")
    return settings_from_table(table, root=str(path.parent), where=str(path), known_codes=known_codes)


class SettingsResolver:
    """Finds the settings for each path: `--config` if given, else the nearest pyproject.toml upward."""

    def __init__(self, known_codes: Iterable[str], config: Path | None = None, overrides: Mapping[str, object] | None = None):
        self.known_codes = tuple(known_codes)
        self.overrides = dict(overrides or {})
        for key in ("select", "ignore", "extend_select"):
            check_codes(self.overrides.get(key) or (), self.known_codes, f"--{key.replace('_', '-')}")
        self.fixed = read_pyproject(config, self.known_codes) if config is not None else None
        if config is not None and self.fixed is None:
            self.fixed = Settings(root=str(config.parent), source=str(config))
        self._lookup = lru_cache(maxsize=None)(self._for_folder)

    def for_path(self, path: Path) -> Settings:
        if self.fixed is not None:
            return self._override(self.fixed)
        folder = path.parent if not path.is_dir() else path
        return self._lookup(folder.resolve())

    def _for_folder(self, folder: Path) -> Settings:
        for candidate in (folder, *folder.parents):
            pyproject = candidate / "pyproject.toml"
            if pyproject.is_file():
                found = read_pyproject(pyproject, self.known_codes)
                if found is not None:
                    return self._override(found)
        return self._override(Settings(root=str(Path.cwd())))

    def _override(self, settings: Settings) -> Settings:
        """Command-line flags: --select replaces, --ignore and --extend-select add (as in ruff)."""
        changes: dict[str, object] = {}
        if self.overrides.get("select"):
            changes["select"] = tuple(self.overrides["select"])
            changes["extend_select"] = ()
        if self.overrides.get("ignore"):
            changes["ignore"] = settings.ignore + tuple(self.overrides["ignore"])
        if self.overrides.get("extend_select"):
            changes["extend_select"] = settings.extend_select + tuple(self.overrides["extend_select"])
        if self.overrides.get("exclude"):
            changes["exclude"] = settings.exclude + tuple(self.overrides["exclude"])
        if self.overrides.get("target"):
            changes["target"] = self.overrides["target"]
        if self.overrides.get("preview"):
            changes["preview"] = True
        if self.overrides.get("thread_safe"):  # the pytest plugin: the threaded test modules
            changes["thread_safe"] = settings.thread_safe + tuple(self.overrides["thread_safe"])
        return replace(settings, **changes) if changes else settings

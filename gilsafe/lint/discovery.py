"""Which files `gilsafe lint PATH...` looks at."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from gilsafe.lint.findings import FileError

SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        ".eggs",
        ".venv",
        "venv",
        "__pycache__",
        "build",
        "dist",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".gilsafe_cache",
    }
)


@dataclass
class Discovered:
    files: list[Path] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def _is_environment(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").exists() or folder.name.endswith(".egg-info")


def _gitignore(folder: Path) -> pathspec.PathSpec | None:
    try:
        lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored_by(specs: Sequence[tuple[Path, pathspec.PathSpec]], path: Path, is_dir: bool) -> bool:
    for base, spec in specs:
        try:
            relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        except ValueError:
            continue
        if spec.match_file(relative):
            return True
    return False


def _ancestor_gitignores(folder: Path) -> list[tuple[Path, pathspec.PathSpec]]:
    """The .gitignore files above `folder`, up to the repository root (the folder holding .git)."""
    specs = []
    for parent in folder.parents:
        spec = _gitignore(parent)
        if spec is not None:
            specs.append((parent, spec))
        if (parent / ".git").exists():
            break
    return list(reversed(specs))


def _inside_ignored(specs: Sequence[tuple[Path, pathspec.PathSpec]], folder: Path) -> bool:
    """True when `folder` or one of its parents is ignored by the .gitignore files above it."""
    for candidate in (folder, *folder.parents):
        if _ignored_by(specs, candidate, True):
            return True
    return False


def discover(paths: Iterable[str], exclude: Sequence[str] = (), exclude_root: Path | None = None) -> Discovered:
    """Python files under `paths`, sorted. Named files are always kept; folders are walked."""
    found = Discovered()
    excluded = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None
    root = (exclude_root or Path.cwd()).absolute()
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        try:
            path.stat()
        except FileNotFoundError:
            found.errors.append(FileError(raw, "no such file or directory"))
            continue
        except OSError as error:
            found.errors.append(FileError(raw, error.strerror or str(error)))
            continue
        if not path.is_dir():  # a file, or a FIFO or device named on purpose: reading says which
            if path not in seen:
                seen.add(path)
                found.files.append(path)
            continue
        specs = _ancestor_gitignores(path.absolute())
        if _inside_ignored(specs, path.absolute()):
            specs = []  # the user named a folder git ignores: they want it linted anyway
        for file in _walk(path, specs, excluded, root, found.errors):
            if file not in seen:
                seen.add(file)
                found.files.append(file)
    found.files.sort()
    return found


def _walk(top: Path, specs, excluded, root: Path, errors: list[FileError]):
    def on_error(error: OSError) -> None:
        errors.append(FileError(error.filename or str(top), error.strerror or str(error)))

    spec_stack: dict[Path, list[tuple[Path, pathspec.PathSpec]]] = {}
    # os.walk does not follow symlinked folders, so a symlink loop cannot trap it.
    for folder, dirnames, filenames in os.walk(top, onerror=on_error):
        here = Path(folder)
        inherited = spec_stack.get(here, specs)
        own = _gitignore(here)
        active = inherited + [(here.absolute(), own)] if own is not None else inherited
        kept = []
        for name in sorted(dirnames):
            child = here / name
            if name in SKIPPED_FOLDERS or _is_environment(child):
                continue
            if _ignored_by(active, child.absolute(), True) or _excluded(excluded, child, root, True):
                continue
            spec_stack[child] = active
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not name.endswith((".py", ".pyi")):
                continue
            file = here / name
            if _ignored_by(active, file.absolute(), False) or _excluded(excluded, file, root, False):
                continue
            yield file


def _excluded(excluded: pathspec.PathSpec | None, path: Path, root: Path, is_dir: bool) -> bool:
    if excluded is None:
        return False
    absolute = path.absolute()
    try:
        relative = absolute.relative_to(root).as_posix()
    except ValueError:
        relative = absolute.as_posix().lstrip("/")
    return excluded.match_file(relative + ("/" if is_dir else "")) or excluded.match_file(path.name + ("/" if is_dir else ""))

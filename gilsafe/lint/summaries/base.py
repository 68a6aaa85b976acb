"""The frame the per-module summaries share: each declares the summaries it needs, and a module's
analysis computes each one once, after its dependencies (LibCST's METADATA_DEPENDENCIES idea)."""

from __future__ import annotations

from typing import ClassVar, NamedTuple, TypeVar

import libcst as cst

from gilsafe.lint.summaries.syntax import SyntaxIndex


class EntryPointSpec(NamedTuple):
    """A configured "run this callable in a thread" helper: `mylib.util:spawn(target)`."""

    dotted: str  # mylib.util.spawn
    keyword: str | None  # the argument that holds the callable, by name
    position: int  # ... or by position (used when no keyword is given in the call)


class SummaryOptions(NamedTuple):
    """The settings that change what a module's summary holds (part of its cache key)."""

    lock_names: tuple[str, ...] = ()
    entry_points: tuple[EntryPointSpec, ...] = ()


class Summary:
    """One kind of fact about one module. Subclasses list the summaries they read in DEPENDENCIES
    and compute everything in __init__; they never change another summary."""

    DEPENDENCIES: ClassVar[tuple[type[Summary], ...]] = ()

    def __init__(self, analysis: ModuleAnalysis) -> None:
        self.analysis = analysis


S = TypeVar("S", bound=Summary)


class ModuleAnalysis:
    """The summaries of one module, each computed on first use after the ones it depends on."""

    def __init__(self, module: cst.Module, *, path: str, module_name: str, is_package: bool, text: str, options: SummaryOptions) -> None:
        self.module = module
        self.path = path
        self.module_name = module_name
        self.is_package = is_package
        self.text = text
        self.options = options
        self.syntax = SyntaxIndex(module)
        self._done: dict[type[Summary], Summary] = {}
        self._computing: list[type[Summary]] = []

    def __getitem__(self, kind: type[S]) -> S:
        found = self._done.get(kind)
        if found is None:
            if kind in self._computing:
                raise RuntimeError(f"summary dependency cycle: {' -> '.join(k.__name__ for k in self._computing)} -> {kind.__name__}")
            self._computing.append(kind)
            try:
                for dependency in kind.DEPENDENCIES:
                    self[dependency]
                found = self._done[kind] = kind(self)
            finally:
                self._computing.pop()
        return found  # type: ignore[return-value]

"""The frozen records that flow from rules to formatters."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, order=True)
class ThreadEntry:
    """Why a piece of code runs in a thread: the call (or class) that starts it, its line, and its
    file when that is not the finding's."""

    description: str
    line: int
    path: str = ""

    def __str__(self) -> str:
        return f"{self.description} at line {self.line}"


@dataclass(frozen=True, order=True)
class ChainLink:
    """One call on the way from a thread entry to a finding: `workers.py:12 run()`."""

    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.text}"


@dataclass(frozen=True)
class Fix:
    """A replacement for the reported node's source text."""

    description: str
    replacement: str


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    code: str
    message: str
    end_line: int = 0
    end_column: int = 0
    entry: ThreadEntry | None = field(default=None, compare=False)
    fix: Fix | None = field(default=None, compare=False)
    # The entry and the calls from it down to the finding, when they cross files:
    # `app.py:40 Thread(target=run) -> workers.py:12 run()` (then the finding, cache.py:33).
    chain: tuple[ChainLink, ...] = field(default=(), compare=False)

    def to_json(self) -> dict:
        data = _portable(asdict(self))
        data["entry"] = _portable(asdict(self.entry)) if self.entry else None
        data["fix"] = asdict(self.fix) if self.fix else None
        data["chain"] = [_portable(asdict(link)) for link in self.chain]
        return data

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        data = _native(data)
        entry, fix, chain = data.pop("entry"), data.pop("fix"), data.pop("chain", [])
        return cls(
            **data,
            entry=ThreadEntry(**_native(entry)) if entry else None,
            fix=Fix(**fix) if fix else None,
            chain=tuple(ChainLink(**_native(link)) for link in chain),
        )

    @property
    def full_message(self) -> str:
        if self.entry is None:
            return self.message
        if not self.chain:
            return f"{self.message} (runs in a thread via {self.entry})"
        steps = " -> ".join(str(link) for link in self.chain)
        return f"{self.message} (runs in a thread: {steps} -> {self.path}:{self.line})"


@dataclass(frozen=True)
class FileError:
    """A file that could not be linted at all (missing, unreadable, too large)."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: error: {self.problem}"


@dataclass
class FileResult:
    path: str
    findings: list[Finding]
    error: FileError | None = None
    fixed_source: bytes | None = None  # only when fixes were asked for and some applied
    original_source: bytes | None = None
    resolved_by_fix: list[Finding] = field(default_factory=list)  # what writing `fixed_source` fixes


def _portable(data: dict) -> dict:
    """JSON must be valid Unicode, but a file name need not be (`caf\\xe9.py` on a UTF-8 system
    arrives as a lone surrogate). Such a path is written readable, with its exact bytes beside it
    in `path_bytes` (hex), which `_native` turns back into the name Python uses."""
    path = data.get("path", "")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(path)
        data = dict(data, path=raw.decode("utf-8", "backslashreplace"), path_bytes=raw.hex())
    return data


def _native(data: dict) -> dict:
    data = dict(data)
    raw = data.pop("path_bytes", None)
    if raw is not None:
        data["path"] = os.fsdecode(bytes.fromhex(raw))
    return data

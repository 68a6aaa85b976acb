"""Per-file analyses (summary, syntax findings, suppressions) keyed by gilsafe version, settings,
path, module name and content: an unchanged file is never parsed again, and the project pass
re-links the cached summaries with the new ones."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from gilsafe import __version__
from gilsafe.atomic import write_atomically
from gilsafe.lint.engine import FileAnalysis

DEFAULT_CACHE_DIR = ".gilsafe_cache"


def cache_key(path: str, digest: str, settings_fingerprint: str, module_name: str) -> str:
    key = hashlib.sha256()
    for part in (__version__, settings_fingerprint, path, module_name, digest):
        data = part.encode("utf-8", "surrogateescape")
        key.update(len(data).to_bytes(8, "little"))
        key.update(data)
    return key.hexdigest()


class AnalysisCache:
    """One small pickle per key; best effort: a cache that cannot be read or written is no cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder) / "v4"

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> FileAnalysis | None:
        try:
            found = pickle.loads(self._file(key).read_bytes())
        except Exception:  # missing, truncated, or written by another version: recompute
            return None
        return found if isinstance(found, FileAnalysis) else None

    def put(self, key: str, analysis: FileAnalysis) -> None:
        self._write(self._file(key), analysis)

    # Where findings sit in a file (by content digest): placing needs the file's tree otherwise.
    def get_placed(self, digest: str) -> dict:
        found = self._read(self.folder / "placed" / f"{digest}.pickle")
        return found if isinstance(found, dict) else {}

    def put_placed(self, digest: str, placed: dict) -> None:
        self._write(self.folder / "placed" / f"{digest}.pickle", placed)

    # The whole run's results, keyed by every file's cache key: an unchanged tree is answered at once.
    def get_results(self, key: str) -> object:
        return self._read(self.folder / "results" / f"{key}.pickle")

    def put_results(self, key: str, results: object) -> None:
        self._write(self.folder / "results" / f"{key}.pickle", results)

    @staticmethod
    def _read(file: Path) -> object:
        try:
            return pickle.loads(file.read_bytes())
        except Exception:
            return None

    def _write(self, file: Path, value: object) -> None:
        try:
            if not self.folder.parent.exists():
                self.folder.parent.mkdir(parents=True)
                # Keep the cache out of users' commits, as pytest and ruff do.
                (self.folder.parent / ".gitignore").write_text("# made by gilsafe\n*\n")
            file.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(file, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass


def run_key(keys: list[str], settings_fingerprint: str) -> str:
    """One key for a whole run: the files' own keys, in order, and the settings."""
    digest = hashlib.sha256(settings_fingerprint.encode())
    for key in keys:
        digest.update(key.encode())
    return digest.hexdigest()

"""Lint results keyed by file content, settings and gilsafe version, so unchanged files are free."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gilsafe import __version__
from gilsafe.atomic import write_atomically
from gilsafe.findings import Finding

DEFAULT_CACHE_DIR = ".gilsafe_cache"


def cache_key(path: str, source: bytes, settings_fingerprint: str) -> str:
    digest = hashlib.sha256()
    for part in (__version__.encode(), settings_fingerprint.encode(), path.encode(), source):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


class FindingsCache:
    """One small JSON file per key; best effort: a cache that cannot be written is no cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder) / "v1"

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[Finding] | None:
        try:
            data = json.loads(self._file(key).read_bytes())
            return [Finding.from_json(item) for item in data]
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, findings: list[Finding]) -> None:
        file = self._file(key)
        try:
            if not self.folder.parent.exists():
                self.folder.parent.mkdir(parents=True)
                # Keep the cache out of users' commits, as pytest and ruff do.
                (self.folder.parent / ".gitignore").write_text("# made by gilsafe\n*\n")
            file.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(file, json.dumps([f.to_json() for f in findings]).encode())
        except OSError:
            pass

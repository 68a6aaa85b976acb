"""What `gilsafe probe` measured about which library calls release the GIL, for the rules to cite.

The data lives in `rules/gil_release.json` (installed as `gilsafe/rules/gil_release.json`), written
by `scripts/gil-release-data`, keyed by library and minor version. A rule asks `claim("numpy.add")`
and gets a sentence saying what was observed, on which versions, and where it changed.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SIZES = (10, 1_000, 100_000, 1_000_000)


def _rules_folder() -> Path:
    spec = importlib.util.find_spec("gilsafe.rules")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "rules"  # a source checkout, not installed


DATA_FILE = _rules_folder() / "gil_release.json"


@dataclass(frozen=True)
class Claim:
    callable: str
    dtype: str
    releases_in: tuple[str, ...]  # minor versions where the largest size released the GIL
    holds_in: tuple[str, ...]
    smallest_release: int | None  # smallest probed size that released it, on the newest version that did
    device: str = "cpu"  # where the arrays lived: "cuda" for GPU arrays

    @property
    def releases(self) -> bool:
        """What the newest probed version does."""
        newest = max(self.releases_in + self.holds_in, key=_version_key)
        return newest in self.releases_in

    def sentence(self) -> str:
        library = self.callable.split(".")[0]
        name = f"{self.callable} on {self.dtype}" + (" GPU arrays" if self.device == "cuda" else "")
        if self.releases_in and self.holds_in:
            return (
                f"{name} released the GIL with {library} {', '.join(self.releases_in)} "
                f"and held it with {', '.join(self.holds_in)} (gilsafe probe)"
            )
        if self.releases_in:
            return f"{name} released the GIL from {self.smallest_release:,} elements ({library} {', '.join(self.releases_in)}, gilsafe probe)"
        return f"{name} held the GIL ({library} {', '.join(self.holds_in)}, gilsafe probe)"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@lru_cache(maxsize=1)
def load() -> dict:
    try:
        return json.loads(DATA_FILE.read_text())
    except (OSError, ValueError):
        return {}


@lru_cache(maxsize=None)  # asked for every array call a rule looks at; the data never changes in a run
def claim(dotted: str, dtype: str | None = None, device: str | None = None) -> Claim | None:
    """What the data says about `dotted` (e.g. "numpy.add"), for `dtype` (or its first probed
    dtype) and `device` (or the first probed device: CPU entries come first)."""
    library = dotted.split(".")[0]
    versions = load().get("libraries", {}).get(library, {})
    releases_in, holds_in, smallest, found_dtype, found_device = [], [], None, dtype, device
    for version in sorted(versions, key=_version_key):
        for entry in versions[version]["entries"]:
            if entry["callable"] != dotted or (found_dtype is not None and entry["dtype"] != found_dtype):
                continue
            if found_device is not None and entry.get("device", "cpu") != found_device:
                continue
            found_dtype, found_device = entry["dtype"], entry.get("device", "cpu")
            verdicts = entry["verdicts"]
            largest = max(verdicts, key=int)
            if verdicts[largest] == "releases":
                releases_in.append(version)
                smallest = min((int(size) for size, verdict in verdicts.items() if verdict == "releases"), default=None)
            else:
                holds_in.append(version)
            break
    if not releases_in and not holds_in:
        return None
    return Claim(dotted, found_dtype or "", tuple(releases_in), tuple(holds_in), smallest, found_device or "cpu")


@lru_cache(maxsize=None)
def releasing_calls(library: str) -> frozenset[str]:
    """Callables whose newest probe released the GIL."""
    names = {
        entry["callable"]
        for versions in load().get("libraries", {}).get(library, {}).values()
        for entry in versions["entries"]
    }
    return frozenset(name for name in names if (found := claim(name)) is not None and found.releases)

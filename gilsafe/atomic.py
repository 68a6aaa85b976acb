"""Writing files so that a crash leaves either the old content or the new, never half of each."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


class ChangedMeanwhile(Exception):
    """The file changed after it was read: writing now would lose that change."""


def write_atomically(path: Path, data: bytes, still: Callable[[], bool] | None = None) -> None:
    """Replace `path` with `data`. `still`, if given, is asked just before the replacement whether
    it may go ahead; if not, nothing is written and ChangedMeanwhile is raised."""
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        if still is not None and not still():
            raise ChangedMeanwhile(str(path))
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def check_writable(path: Path, flag: str) -> None:
    """Fail now, in one line, if `path` could not be written atomically (a temporary file beside
    it): checked before long work whose results go there, so that they are never lost to a typo."""
    from gilsafe.errors import UsageError

    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder")
    try:
        handle, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot write there: {error.strerror or error}") from None
    os.close(handle)
    os.unlink(probe)

"""Reading a pyproject.toml: lint's settings and the pytest plugin's lists both come from its
[tool.gilsafe]. Standard library only: the plugin reads it without loading the linter."""

from __future__ import annotations

import sys
from pathlib import Path

from gilsafe.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def load_toml(path: Path) -> dict:
    """The file's contents; ConfigError naming the file when it is not TOML or cannot be read."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None

"""Typed user-facing failures: caught once at the CLI boundary and printed as one line."""


class GilsafeError(Exception):
    """A problem the user can fix; the message is a complete sentence without a traceback."""

    exit_code = 2


class ConfigError(GilsafeError):
    """A bad `[tool.gilsafe]` table, unknown key or unknown rule code."""


class UsageError(GilsafeError):
    """Bad command-line arguments."""

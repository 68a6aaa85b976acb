"""The name Sphinx knows gilsafe's extension by (``extensions = ["gilsafe.sphinx"]``); the
extension itself is the report package's (gilsafe/report/extension.py)."""

from gilsafe.report.extension import setup

__all__ = ["setup"]

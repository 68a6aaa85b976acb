"""gilsafe's rules, one module each; installed as `gilsafe.rules`.

Every module named `gs<NNN>_<name>.py` here is loaded, and each Rule subclass in it registered.
"""

from __future__ import annotations

import importlib
import pkgutil

from gilsafe.lint.rule import Rule


def _load_rules() -> dict[str, type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module_info.name.startswith("gs"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                found[value.code] = value
    return dict(sorted(found.items()))


ALL_RULES: dict[str, type[Rule]] = _load_rules()

"""``scripts/demo.py`` and ``scripts/demo_guard.py`` as modules: the tests call their functions (they are scripts,
not a package)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load_script(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def load_demo_script() -> ModuleType:
    """Import ``scripts/demo.py`` once per test process under the name ``mesh_ui_demo``."""
    return _load_script("mesh_ui_demo", ROOT / "scripts" / "demo.py")


def load_demo_guard() -> ModuleType:
    """Import ``scripts/demo_guard.py`` once per test process under the name ``mesh_ui_demo_guard``."""
    return _load_script("mesh_ui_demo_guard", ROOT / "scripts" / "demo_guard.py")

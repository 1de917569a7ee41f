"""``scripts/demo.py`` as a module: the tests call its functions (it is a script, not a package)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_demo_script() -> ModuleType:
    """Import ``scripts/demo.py`` once per test process under the name ``mesh_ui_demo``."""
    if "mesh_ui_demo" in sys.modules:
        return sys.modules["mesh_ui_demo"]
    spec = importlib.util.spec_from_file_location("mesh_ui_demo", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module

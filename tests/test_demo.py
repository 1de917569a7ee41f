"""The demo launcher's own secret: a random SECRET_KEY kept under the var folder, private to its owner."""

import importlib.util
import stat
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_demo():
    spec = importlib.util.spec_from_file_location("mesh_ui_demo", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_it_makes_a_private_random_key_once_and_keeps_it(tmp_path):
    demo = _load_demo()
    path = demo.ensure_secret_key_file(tmp_path)
    key = path.read_text()
    assert path == tmp_path / "secret_key" and len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo.ensure_secret_key_file(tmp_path).read_text() == key
    other = tmp_path / "other"
    other.mkdir()
    assert demo.ensure_secret_key_file(other).read_text() != key

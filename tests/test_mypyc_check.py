"""benchmarks/mypyc_check.py: its module list and its copy of the checkout stay valid.

The check itself compiles with mypyc and times for minutes, so it is not run here; these
tests catch a renamed module or a copy that would carry built files into the build.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_check():
    spec = importlib.util.spec_from_file_location(
        "mypyc_check", ROOT / "benchmarks" / "mypyc_check.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mypyc_check", module)
    spec.loader.exec_module(module)
    return module


check = _load_check()


def test_the_default_modules_are_files_of_the_package():
    for module in check.DEFAULT_MODULES:
        assert (ROOT / module).is_file(), module
        assert module.startswith("adfun/") and module.endswith(".py")


def test_the_copy_leaves_out_built_files_and_caches(tmp_path, monkeypatch):
    package = tmp_path / "source" / "adfun"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__pycache__" / "x.pyc").write_bytes(b"")
    (package / "mod.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    monkeypatch.setattr(check, "ROOT", tmp_path / "source")
    check.copy_tree(tmp_path / "copy")
    copied = sorted(path.name for path in (tmp_path / "copy").rglob("*"))
    assert copied == ["__init__.py", "adfun"]


def test_an_unknown_module_is_refused_before_building(capsys):
    with pytest.raises(SystemExit, match="is not a file of this checkout"):
        check.main(["--modules", "adfun/no_such_module.py"])

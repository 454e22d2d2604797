"""The import rule: models imports no Qt or napari; app imports no napari."""

import subprocess
import sys

FORBIDDEN_FOR_ENGINE = ("qtpy", "PySide6", "PyQt5", "PyQt6", "napari", "superqt")


def _modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {line.split(".")[0] for line in out.stdout.split()}


def _all_submodules(package: str) -> list[str]:
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    return [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.")]


def test_package_root_imports_nothing_heavy():
    loaded = _modules_loaded_by("import unet_studio")
    assert not loaded & {"torch", "numpy", "napari", "qtpy", "PySide6"}


def test_engine_imports_no_qt_or_napari():
    modules = [m for m in _all_submodules("unet_studio.models")]
    statement = "; ".join(f"import {m}" for m in ["unet_studio.models", *modules])
    loaded = _modules_loaded_by(statement)
    assert not loaded & set(FORBIDDEN_FOR_ENGINE)


def test_app_imports_no_napari():
    modules = [m for m in _all_submodules("unet_studio.app")]
    statement = "; ".join(f"import {m}" for m in ["unet_studio.app", *modules])
    loaded = _modules_loaded_by(statement)
    assert "napari" not in loaded

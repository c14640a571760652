"""The core must import and run with Qt absent (napari's rule): the CLI and tests depend on it."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import builtins, sys
real_import = builtins.__import__
def guarded(name, *args, **kwargs):
    if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6'):
        raise ImportError('Qt is not allowed in photosearch.core: ' + name)
    return real_import(name, *args, **kwargs)
builtins.__import__ = guarded
import pkgutil, importlib, photosearch.core as core
for module in pkgutil.iter_modules(core.__path__):
    importlib.import_module('photosearch.core.' + module.name)
import photosearch.cli
print('ok', len(list(pkgutil.iter_modules(core.__path__))))
"""


def test_every_core_module_imports_without_qt():
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok ")
    assert int(proc.stdout.split()[1]) >= 10

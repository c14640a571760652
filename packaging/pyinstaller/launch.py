"""Entry point of the frozen programs: the GUI launcher opens the app, the console program is the CLI.

Both programs share one bundle and this script; the program's own name says which one runs.
PHOTOSEARCH_IMPORTS_REPORT=FILE writes the modules the run imported to FILE (the smoke test checks
that a search never imports torch).
"""

import importlib.abc
import importlib.util
import os
import sys
import threading
from pathlib import Path

GUI_PROGRAMS = {"PhotoSearch", "PhotoSearchApp"}


class _TorchWithoutCuDNN(importlib.abc.MetaPathFinder):
    """Turns cuDNN off as soon as torch is imported (only if it ever is).

    The bundle leaves out cuDNN's engine libraries (900 MB, see photosearch.spec); with cuDNN off,
    torch runs the CLIP models' single convolution (the patch embedding) with its own CUDA kernels.
    """

    def __init__(self) -> None:
        self._busy = threading.local()

    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        # Stays installed: a plain lookup (importlib.util.find_spec("torch")) may come before the import.
        if name != "torch" or getattr(self._busy, "on", False):
            return None
        self._busy.on = True  # the lookup below asks the other finders, not this one again
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._busy.on = False
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, _ThenDisableCuDNN):
            spec.loader = _ThenDisableCuDNN(spec.loader)
        return spec


class _ThenDisableCuDNN(importlib.abc.Loader):
    def __init__(self, loader):  # type: ignore[no-untyped-def]
        self._loader = loader

    def __getattr__(self, attr):  # type: ignore[no-untyped-def]
        return getattr(self._loader, attr)

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        return self._loader.create_module(spec)

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        self._loader.exec_module(module)
        module._C._set_cudnn_enabled(False)


def _report_imports() -> None:
    report = os.environ.get("PHOTOSEARCH_IMPORTS_REPORT")
    # Child processes of this executable (the text reader, multiprocessing's helpers) inherit the
    # variable: only the process that was started with it reports.
    if not report or os.environ.get("PHOTOSEARCH_IMPORTS_REPORT_PID") != str(os.getpid()):
        return
    lines = sorted(sys.modules)
    torch = sys.modules.get("torch")
    if torch is not None:
        lines.append(f"# torch cuDNN enabled: {torch.backends.cudnn.enabled}")
    Path(report).write_text("\n".join(lines) + "\n", encoding="utf-8")


if getattr(sys, "frozen", False):
    sys.meta_path.insert(0, _TorchWithoutCuDNN())
os.environ.setdefault("PHOTOSEARCH_IMPORTS_REPORT_PID", str(os.getpid()))

if Path(sys.executable).stem in GUI_PROGRAMS:
    from photosearch.ui.app import main
else:
    from photosearch.cli import main

try:
    code = main()
finally:
    _report_imports()
sys.exit(code)

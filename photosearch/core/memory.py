"""Too little memory gets one line saying so and how much is needed, not a traceback or a segfault.

Limits on address space (ulimit -v, RLIMIT_AS) show up late and in many forms: MemoryError, ImportError
"failed to map segment from shared object" while a native library loads, or a segfault inside faiss or
BLAS. So the limit is checked before anything heavy is imported, and what still fails is explained.
Figures measured on Linux x86-64 with Python 3.11: searching with ONNX Runtime works from about 700 MB of
address space (below it: failed imports and a segfault); the torch backend maps about 4 GB at import
(its CUDA libraries), whether or not a GPU is used.
"""

from __future__ import annotations

import errno

from photosearch.core.errors import PhotoSearchError

GIB = 1024**3
NEEDED = {"onnx": 1 * GIB, "auto": 1 * GIB, "torch": 5 * GIB}


def address_space_limit() -> int | None:
    """The soft RLIMIT_AS in bytes, or None when there is none (or the platform has no such limit)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _gb(n: float) -> str:
    return f"{n / GIB:.1f} GB"


def check_address_space(backend: str = "auto") -> None:
    """Refuse to start when the address-space limit is below what the backend is known to need."""
    limit = address_space_limit()
    needed = NEEDED.get(backend, NEEDED["auto"])
    if limit is not None and limit < needed:
        raise PhotoSearchError(
            f"not enough memory: the address-space limit (ulimit -v) is {_gb(limit)}, and PhotoSearch "
            f"needs about {_gb(needed)} with the {backend} backend; raise the limit or close other programs"
        )


def explain(exc: BaseException, backend: str = "auto") -> PhotoSearchError | None:
    """A one-line error for an exception that means memory ran out (None when it means something else)."""
    text = str(exc).lower()
    out_of_memory = (
        isinstance(exc, MemoryError)
        or (isinstance(exc, ImportError) and ("failed to map segment" in text or "cannot allocate memory" in text))
        or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM)
        or (isinstance(exc, RuntimeError) and ("out of memory" in text or "bad_alloc" in text))
    )
    if not out_of_memory:
        return None
    limit = address_space_limit()
    needed = NEEDED["torch"] if "torch" in text else NEEDED.get(backend, NEEDED["auto"])
    have = f"the address-space limit (ulimit -v) is {_gb(limit)}; " if limit is not None else ""
    return PhotoSearchError(
        f"not enough memory to load the model and search index: {have}PhotoSearch needs about {_gb(needed)}"
        + (" (the torch backend maps about 4 GB of libraries)" if needed == NEEDED["torch"] else "")
    )

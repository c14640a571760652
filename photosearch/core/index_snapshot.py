"""Saved VectorIndex snapshots: one folder holding the ids, the vectors (a .npy or a faiss file) and
index.json, which names them with their checksums and is replaced last.

Data files get fresh names on every save, so a crash mid-save leaves the previous snapshot (or none)
readable, never a mix. Reading checks the checksums and the shapes before anything is trusted.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from photosearch.core.atomic_files import replace_atomically, write_atomically
from photosearch.core.snapshot_files import checksum, mismatched
from photosearch.core.vector_stores import FaissFlatStore, FaissIVFStore, NumpyStore, VectorStore, faiss

SNAPSHOT_VERSION = 2  # 2: files carry checksums
_SNAPSHOT_META = "index.json"


class SnapshotError(Exception):
    """A saved index that is missing, unreadable, from another version or inconsistent."""


def write_snapshot(folder: Path, store: VectorStore, ids: np.ndarray, fields: dict[str, Any]) -> None:
    """Write the store's rows and their ids into folder, replacing an earlier save; fields go into
    index.json as they are. The caller holds the folder's save lock and the index's lock."""
    token = uuid.uuid4().hex[:12]
    rows = ids.shape[0]
    if isinstance(store, NumpyStore):
        kind, data_name = "numpy", f"vectors-{token}.npy"
    else:
        kind, data_name = ("ivf" if isinstance(store, FaissIVFStore) else "flat"), f"index-{token}.faiss"
    ids_name = f"ids-{token}.npy"
    written: list[Path] = []
    try:
        written.append(folder / ids_name)
        write_atomically(folder / ids_name, lambda f: np.save(f, ids))
        written.append(folder / data_name)
        if kind == "numpy":
            write_atomically(folder / data_name, lambda f: np.save(f, store.vectors(rows)))
        else:
            replace_atomically(folder / data_name, lambda tmp: faiss.write_index(store.index, str(tmp)))
        meta = {
            "version": SNAPSHOT_VERSION,
            "kind": kind,
            **fields,
            "ids": ids_name,
            "data": data_name,
            "checksums": {ids_name: checksum(folder / ids_name), data_name: checksum(folder / data_name)},
        }
        write_atomically(folder / _SNAPSHOT_META, lambda f: f.write(json.dumps(meta).encode()))
    except BaseException:
        for leftover in written:
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise
    # Earlier saves' data files (and temporaries of interrupted ones) are garbage now.
    for entry in folder.iterdir():
        if entry.name not in (_SNAPSHOT_META, ids_name, data_name):
            with contextlib.suppress(OSError):
                entry.unlink()


def snapshot_info(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON description of a saved index (cheap: no vectors are read)."""
    try:
        meta = json.loads((Path(path) / _SNAPSHOT_META).read_text())
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"no readable index snapshot: {exc}") from None
    if not isinstance(meta, dict) or meta.get("version") != SNAPSHOT_VERSION:
        raise SnapshotError("index snapshot from another version")
    return meta


def read_snapshot(folder: Path, with_faiss: bool) -> tuple[dict[str, Any], np.ndarray, VectorStore]:
    """(index.json, ids, store) of a save; SnapshotError when it is missing or damaged.
    with_faiss False: the numpy store (a faiss file cannot be read then)."""
    meta = snapshot_info(folder)
    bad = mismatched(folder, meta.get("checksums") or {})
    if bad:
        raise SnapshotError(f"index snapshot file {bad} is damaged (checksum)")
    try:
        kind, dim, rows = meta["kind"], int(meta["dim"]), int(meta["rows"])
        ids = np.load(folder / meta["ids"], allow_pickle=False)
        if ids.dtype != np.int64 or ids.shape != (rows,):
            raise SnapshotError("index snapshot ids do not match its description")
        if kind == "numpy":
            vectors = np.load(folder / meta["data"], allow_pickle=False)
            if vectors.dtype != np.float16 or vectors.shape != (rows, dim):
                raise SnapshotError("index snapshot vectors do not match its description")
            store: VectorStore = FaissFlatStore(dim) if with_faiss else NumpyStore(dim)
            store.add(vectors, 0)
        elif not with_faiss:
            raise SnapshotError("index snapshot needs faiss")
        else:
            index = faiss.read_index(str(folder / meta["data"]))
            if index.d != dim or index.ntotal != rows:
                raise SnapshotError("index snapshot vectors do not match its description")
            if kind == "ivf":
                if not isinstance(index, faiss.IndexIVFScalarQuantizer):
                    raise SnapshotError("index snapshot holds an unexpected faiss index")
                store = FaissIVFStore.from_index(index, int(meta["nprobe"]))
            elif kind == "flat":
                flat = FaissFlatStore.__new__(FaissFlatStore)
                flat.index = index
                if not isinstance(index, faiss.IndexScalarQuantizer):
                    raise SnapshotError("index snapshot holds an unexpected faiss index")
                store = flat
            else:
                raise SnapshotError(f"unknown index snapshot kind {kind!r}")
    except SnapshotError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError) as exc:
        raise SnapshotError(f"unreadable index snapshot: {exc}") from None
    return meta, ids, store

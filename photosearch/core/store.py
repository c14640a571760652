"""The library database: SQLite in WAL mode, one connection per thread, stepwise migrations.

Embeddings are keyed by content fingerprint, not by path: a moved, renamed or copied photo finds its
embedding again without re-encoding, and a model change keeps the old vectors until the new ones land.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np

from photosearch.core.backup import guard_against_fresh_start
from photosearch.core.errors import PhotoSearchError
from photosearch.core.fsnames import NameSafeConnection, from_db

DB_NAME = "library.sqlite3"
RESTORE_HINT = "`photosearch restore` brings back the newest backup"

# Each step moves the schema from version i to i+1; never edit a released step, add a new one.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added REAL NOT NULL,
        online INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        fingerprint TEXT,
        width INTEGER,
        height INTEGER,
        taken REAL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'indexed', 'skipped')),
        reason TEXT,
        offline INTEGER NOT NULL DEFAULT 0,
        sidecar_mtime_ns INTEGER
    );
    CREATE INDEX photos_fingerprint ON photos(fingerprint);
    CREATE INDEX photos_folder ON photos(folder_id);
    CREATE TABLE embeddings (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        model_id TEXT NOT NULL,
        vector BLOB NOT NULL,
        UNIQUE (fingerprint, model_id)
    );
    CREATE INDEX embeddings_model ON embeddings(model_id, id);
    CREATE TABLE captions (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        source TEXT NOT NULL,
        text TEXT NOT NULL,
        UNIQUE (path, source, text)
    );
    CREATE INDEX captions_path ON captions(path);
    CREATE VIRTUAL TABLE captions_fts USING fts5(
        text, content='captions', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER captions_ai AFTER INSERT ON captions BEGIN
        INSERT INTO captions_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER captions_ad AFTER DELETE ON captions BEGIN
        INSERT INTO captions_fts(captions_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER captions_au AFTER UPDATE OF text ON captions BEGIN
        INSERT INTO captions_fts(captions_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO captions_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TABLE caption_embeddings (
        caption_id INTEGER NOT NULL REFERENCES captions(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (caption_id, model_id)
    );
    """,
    # Files and folders the scan could not even stat or list (unreadable folder, symlink loop named
    # like a photo): remembered so each is reported once and listed with the skipped photos.
    """
    CREATE TABLE scan_problems (
        path TEXT PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        reason TEXT NOT NULL
    );
    """,
    # issue 11: file and folder names as searchable words (the path below its watched folder:
    # "trips/paris-2019-eiffel.jpg" -> trips, paris, 2019, eiffel, jpg), kept in step by triggers.
    # Photos indexed before keywords were read get them on the next `index` (meta flag below).
    # photos_date: browsing newest first by date taken, else file time, reads the index, not the table.
    """
    CREATE VIRTUAL TABLE photo_names USING fts5(
        name, tokenize='porter unicode61 remove_diacritics 2'
    );
    INSERT INTO photo_names(rowid, name)
        SELECT p.id, substr(p.path, length(f.path) + 2) FROM photos p JOIN folders f ON f.id = p.folder_id;
    CREATE TRIGGER photo_names_ai AFTER INSERT ON photos BEGIN
        INSERT INTO photo_names(rowid, name)
            VALUES (new.id, substr(new.path, length((SELECT path FROM folders WHERE id = new.folder_id)) + 2));
    END;
    CREATE TRIGGER photo_names_ad AFTER DELETE ON photos BEGIN
        DELETE FROM photo_names WHERE rowid = old.id;
    END;
    CREATE TRIGGER photo_names_au AFTER UPDATE OF path, folder_id ON photos BEGIN
        DELETE FROM photo_names WHERE rowid = old.id;
        INSERT INTO photo_names(rowid, name)
            VALUES (new.id, substr(new.path, length((SELECT path FROM folders WHERE id = new.folder_id)) + 2));
    END;
    CREATE INDEX photos_date ON photos(COALESCE(taken, mtime_ns / 1e9)) WHERE state = 'indexed';
    INSERT OR REPLACE INTO meta(key, value) SELECT 'keywords_backfill', 'pending' WHERE EXISTS (SELECT 1 FROM photos);
    """,
    # issue 12: text read from each photo (OCR) and its perceptual hash, keyed by content like the
    # embeddings, so moves and renames keep them. text '' = looked, found none (or could not read).
    """
    CREATE TABLE ocr_text (
        fingerprint TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        engine TEXT NOT NULL,
        done_at REAL NOT NULL
    );
    CREATE TABLE phashes (fingerprint TEXT PRIMARY KEY, hash INTEGER NOT NULL);
    """,
    # Offline photos by content: browsing asks whether there are any (an offline photo whose content an
    # online photo has is left out) without a pass over the table, and finds their twins by fingerprint.
    """
    CREATE INDEX photos_offline ON photos(fingerprint) WHERE offline = 1;
    """,
]

SCHEMA_VERSION = len(_MIGRATIONS)


def vector_to_blob(vector: np.ndarray) -> bytes:
    """Vectors are stored as little-endian float16: half the disk and RAM, ~1e-3 cosine error."""
    return np.asarray(vector, dtype="<f2").tobytes()


def blob_to_vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float16)
    return np.frombuffer(b"".join(blobs), dtype="<f2").reshape(len(blobs), dim)


def _explain(exc: sqlite3.Error, path: Path) -> PhotoSearchError:
    text = str(exc).lower()
    if "full" in text or ("disk i/o error" in text and _nearly_full(path.parent)):
        return PhotoSearchError(f"the disk holding the library is full ({path.parent}); nothing was lost")
    if "readonly" in text or "read-only" in text:
        return PhotoSearchError(f"the library is read-only ({path.parent}); it can be searched but not changed")
    if "locked" in text or "busy" in text:
        return PhotoSearchError("the library is busy in another PhotoSearch process; try again in a moment")
    if "malformed" in text or "not a database" in text:
        return PhotoSearchError(f"the library database is damaged ({path}): {exc}; {RESTORE_HINT}")
    if path.is_dir():
        return PhotoSearchError(f"the library database {path} is a folder, not a file")
    return PhotoSearchError(f"library database error ({path}): {exc}")


def _nearly_full(folder: Path) -> bool:
    """SQLite reports a full disk as a plain I/O error when it fails to grow the WAL or its index."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return st.f_bavail * st.f_frsize < 4 * 1024 * 1024


class Store:
    """Owns the SQLite file. Reads may happen on any thread; writes go through `write()`."""

    def __init__(self, root: Path, *, readonly: bool = False) -> None:
        self.root = Path(root)
        self.path = self.root / DB_NAME
        self.readonly = readonly
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self.generation = 0  # bumped on every committed write in this process
        if not readonly:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise PhotoSearchError(f"cannot create the library folder {self.root}: {exc.strerror}") from None
        guard_against_fresh_start(self.root, self.path)
        self._migrate()

    # -- connections -------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                conn = self._open_readonly()
            else:
                conn = sqlite3.connect(
                    self.path, check_same_thread=False, isolation_level=None, factory=NameSafeConnection
                )
            conn.execute("PRAGMA busy_timeout = 10000")
            if not self.readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL in WAL mode survives a killed process; only a power cut can lose the last commit.
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from None
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _open_readonly(self) -> sqlite3.Connection:
        uri = f"file:{quote(str(self.path))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, factory=NameSafeConnection)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            if os.access(self.root, os.W_OK):
                raise
        # A WAL library on read-only media (no -shm file and no way to make one): nobody can be
        # writing to it, so SQLite may read the file as immutable.
        return sqlite3.connect(f"{uri}&immutable=1", uri=True, check_same_thread=False, factory=NameSafeConnection)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One writer at a time in this process; the transaction commits on exit or rolls back."""
        if self.readonly:
            raise PhotoSearchError(f"the library at {self.root} was opened read-only")
        with self._write_lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _explain(exc, self.path) from None
                raise
            self.generation += 1

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from None

    def data_version(self) -> tuple[int, int]:
        """Changes whenever this process or another one commits to the library."""
        (version,) = self.conn.execute("PRAGMA data_version").fetchone()
        return (self.generation, version)

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self) -> None:
        if self.readonly:
            if not self.path.exists():
                raise PhotoSearchError(f"no library at {self.root}")
            return
        conn = self.conn
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version < 0:
                raise PhotoSearchError(
                    f"the library database is damaged ({self.path}): schema version {version}; {RESTORE_HINT}"
                )
            if version > SCHEMA_VERSION:
                raise PhotoSearchError(
                    f"the library at {self.root} was made by a newer PhotoSearch (schema {version}); "
                    "upgrade PhotoSearch to open it"
                )
            for step in range(version, SCHEMA_VERSION):
                with self.write() as w:
                    for statement in _split_sql(_MIGRATIONS[step]):
                        w.execute(statement)
                    w.execute(f"PRAGMA user_version = {step + 1}")
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from None

    # -- meta --------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0][0] if row else default

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- folders -----------------------------------------------------------------------------
    def folders(self) -> list[tuple[int, str, bool]]:
        return [
            (i, from_db(p), bool(o)) for i, p, o in self.query("SELECT id, path, online FROM folders ORDER BY path")
        ]

    def add_folder(self, path: str) -> int:
        """Watch a folder; one inside a watched folder takes over the photos below it from that folder."""
        enclosing = self._enclosing_folder_ids(path)
        with self.write() as conn:
            conn.execute("INSERT OR IGNORE INTO folders(path, added) VALUES (?, ?)", (path, time.time()))
            (folder_id,) = conn.execute("SELECT id FROM folders WHERE path = ?", (path,)).fetchone()
            if enclosing:
                prefix = path.rstrip(os.sep) + os.sep
                below = (folder_id, prefix, prefix[:-1] + chr(ord(os.sep) + 1), *enclosing)
                owners = ",".join("?" * len(enclosing))
                for table in ("photos", "scan_problems"):
                    conn.execute(
                        f"UPDATE {table} SET folder_id = ? WHERE path >= ? AND path < ? AND folder_id IN ({owners})",
                        below,
                    )
        return folder_id

    def _enclosing_folder_ids(self, path: str) -> list[int]:
        """The watched folders that hold `path`, innermost first."""
        outer = [(p, i) for i, p, _ in self.folders() if p != path and path.startswith(p.rstrip(os.sep) + os.sep)]
        return [i for _, i in sorted(outer, key=lambda f: -len(f[0]))]

    def remove_folder(self, path: str) -> int:
        """Stop watching a folder and forget its photos (their embeddings go with the next garbage
        collection), unless another watched folder holds it: then that folder keeps them."""
        enclosing = self._enclosing_folder_ids(path)
        with self.write() as conn:
            row = conn.execute("SELECT id FROM folders WHERE path = ?", (path,)).fetchone()
            if row is None:
                return 0
            if enclosing:
                for table in ("photos", "scan_problems"):
                    conn.execute(f"UPDATE {table} SET folder_id = ? WHERE folder_id = ?", (enclosing[0], row[0]))
                conn.execute("DELETE FROM folders WHERE id = ?", row)
                return 0
            paths = [from_db(p) for (p,) in conn.execute("SELECT path FROM photos WHERE folder_id = ?", row)]
            conn.executemany("DELETE FROM captions WHERE path = ?", [(p,) for p in paths])
            conn.execute("DELETE FROM photos WHERE folder_id = ?", row)
            conn.execute("DELETE FROM folders WHERE id = ?", row)
            collect_garbage(conn)
        return len(paths)

    def integrity_ok(self) -> bool:
        return self.query("PRAGMA integrity_check")[0][0] == "ok"


def collect_garbage(conn: sqlite3.Connection) -> None:
    """Drop vectors whose content no photo has any more (after deletes, folder removal)."""
    conn.execute(
        "DELETE FROM embeddings WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.fingerprint = embeddings.fingerprint)"
    )


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole (executescript would commit)."""
    statements: list[str] = []
    buffer: list[str] = []
    for line in script.strip().splitlines():
        buffer.append(line)
        text = "\n".join(buffer).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            statements.append(text)
            buffer = []
    if "".join(buffer).strip():
        statements.append("\n".join(buffer))
    return statements

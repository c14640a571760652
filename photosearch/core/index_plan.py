"""Record what a scan found (new, changed, moved, removed, offline photos; changed sidecars) in one
transaction: cheap, no decoding. Moves keep their row, captions and vector."""

from __future__ import annotations

from collections.abc import Callable

from photosearch.core.caption_rows import SIDECAR_SOURCE, move_captions, replace_captions, sidecar_captions
from photosearch.core.scanner import ScanPlan, match_moves
from photosearch.core.store import Store
from photosearch.core.types import IndexSummary


def record_plan(store: Store, plan: ScanPlan, inside: Callable[[], tuple[str, ...]]) -> IndexSummary:
    """inside: the watched folders' real paths (sidecars are read only from inside them)."""
    summary = IndexSummary(skipped=list(plan.problems))
    moves = match_moves(plan)
    moved_ids = {old.id for old, _, _ in moves}
    moved_new = {new.path for _, new, _ in moves}
    with store.write() as conn:
        for fid in plan.offline_folders:
            conn.execute("UPDATE folders SET online = 0 WHERE id = ?", (fid,))
            cur = conn.execute("UPDATE photos SET offline = 1 WHERE folder_id = ? AND offline = 0", (fid,))
            summary.offline += cur.rowcount
        for fid in plan.online_folders:
            conn.execute("UPDATE folders SET online = 1 WHERE id = ?", (fid,))
            conn.execute("UPDATE photos SET offline = 0 WHERE folder_id = ?", (fid,))
        # Unreadable for now (permissions, a flaky share) is offline, not deleted: rows, vectors and
        # captions stay; readable again, the photo is back as it was.
        conn.executemany("UPDATE photos SET offline = 0 WHERE id = ?", [(i,) for i in plan.reachable])
        cur = conn.executemany("UPDATE photos SET offline = 1 WHERE id = ?", [(i,) for i in plan.unreachable])
        summary.offline += max(cur.rowcount, 0)
        conn.executemany(
            "UPDATE photos SET state = 'pending', reason = NULL WHERE id = ? AND state = 'skipped'",
            [(i,) for i in plan.retry],
        )
        for old, new, fp in moves:
            conn.execute(
                "UPDATE photos SET path = ?, folder_id = ?, size = ?, mtime_ns = ?, fingerprint = ?, "
                "sidecar_mtime_ns = ?, offline = 0 WHERE id = ?",
                (new.path, new.folder_id, new.size, new.mtime_ns, fp, new.sidecar_mtime_ns, old.id),
            )
            move_captions(conn, old.path, new.path)
        for old in plan.removed:
            if old.id not in moved_ids:
                conn.execute("DELETE FROM photos WHERE id = ?", (old.id,))
                conn.execute("DELETE FROM captions WHERE path = ?", (old.path,))
        conn.executemany(
            "INSERT INTO photos(path, folder_id, size, mtime_ns, state, sidecar_mtime_ns) "
            "VALUES (?, ?, ?, ?, 'pending', ?)",
            [
                (f.path, f.folder_id, f.size, f.mtime_ns, f.sidecar_mtime_ns)
                for f in plan.new
                if f.path not in moved_new
            ],
        )
        conn.executemany(
            "UPDATE photos SET size = ?, mtime_ns = ?, sidecar_mtime_ns = ?, state = 'pending', "
            "reason = NULL, fingerprint = NULL WHERE id = ?",
            [(f.size, f.mtime_ns, f.sidecar_mtime_ns, old.id) for old, f in plan.changed],
        )
        conn.executemany("DELETE FROM scan_problems WHERE path = ?", [(p,) for p in plan.problems_gone])
        conn.executemany(
            "INSERT INTO scan_problems(path, folder_id, reason) VALUES (?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, folder_id = excluded.folder_id",
            plan.problems_to_record,
        )
        for old, side_mtime in plan.sidecar_changed:
            conn.execute("UPDATE photos SET sidecar_mtime_ns = ? WHERE id = ?", (side_mtime, old.id))
            replace_captions(conn, old.path, (SIDECAR_SOURCE,), sidecar_captions(old.path, inside()))
    summary.moved = len(moves)
    summary.added = len(plan.new) - len(moves)
    summary.removed = len(plan.removed) - len(moves)
    summary.updated = len(plan.changed)
    return summary

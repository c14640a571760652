"""A file is published whole or not at all; a failed write leaves the old one and no temporary."""

from __future__ import annotations

import pytest

from photosearch.core.atomic_files import replace_atomically, write_atomically


def test_write_replaces_the_target(tmp_path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    write_atomically(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def half_then_fail(f) -> None:
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_replace_uses_the_named_temporary(tmp_path) -> None:
    target, tmp = tmp_path / "db", tmp_path / ".db.restoring"
    seen = []
    replace_atomically(target, lambda p: (seen.append(p), p.write_bytes(b"x")), tmp)
    assert seen == [tmp] and target.read_bytes() == b"x" and not tmp.exists()

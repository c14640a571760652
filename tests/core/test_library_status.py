"""Status counts and the skipped-files list agree (the desktop app shows the count and lists the files)."""

from __future__ import annotations

from tests.conftest import make_photos


def test_the_connected_skipped_files_are_the_ones_status_counts(library, tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    make_photos(a, 3)
    (a / "broken.jpg").write_bytes(b"not a picture at all" * 10)
    (a / "sub").mkdir()
    (a / "sub" / "empty.png").write_bytes(b"")
    library.add_folder(a)
    library.index()
    assert library.status()["photos"]["skipped"] == 2
    a.rename(b)  # A goes offline; its rows, skipped ones too, stay for a drive that may come back
    library.add_folder(b)
    library.index()
    listed = library.skipped(connected_only=True)
    assert len(listed) == library.status()["photos"]["skipped"] == 2
    assert sorted(s["path"] for s in listed) == [str(b / "broken.jpg"), str(b / "sub" / "empty.png")]
    assert len(library.skipped()) == 4  # every row, as `status --skipped` lists them

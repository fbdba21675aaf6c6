from __future__ import annotations

import io
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import DATA
from tutti.errors import ExportError
from tutti.importers import ReadOptions
from tutti.importers._archive import open_export
from tutti.importers.detect import detect
from tutti.model import PlayBatch

FIXTURES = DATA / "spotify_extended"


def _zip_folder(folder: Path, out: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
        archive.writestr("__MACOSX/._junk.json", b"\x00\x05")
    return out


def test_zip_folder_and_file_give_the_same_entries(tmp_path: Path) -> None:
    archive = _zip_folder(FIXTURES, tmp_path / "my_spotify_data.zip", prefix="MyData/")
    from_zip = {e.basename: e.read_bytes() for e in open_export(archive)}
    from_folder = {e.basename: e.read_bytes() for e in open_export(FIXTURES)}
    assert from_zip == from_folder
    assert all(e.path.startswith(f"{archive}!MyData/") for e in open_export(archive))
    single = FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"
    [entry] = open_export(single)
    assert entry.read_bytes() == single.read_bytes()


def test_a_zip_inside_a_folder_or_zip_is_opened(tmp_path: Path) -> None:
    inner = _zip_folder(FIXTURES, tmp_path / "inner.zip")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, "download/my_spotify_data.zip")
    entries = open_export(outer)
    assert len(entries) == len(list(FIXTURES.iterdir()))
    assert all("!download/my_spotify_data.zip!" in e.path for e in entries)


def test_corrupt_zip_names_the_file() -> None:
    with pytest.raises(ExportError, match=r"my_spotify_data_corrupt\.zip: is not a readable zip archive"):
        open_export(DATA / "bad" / "my_spotify_data_corrupt.zip")


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        open_export(tmp_path / "nope.zip")


def test_detect_never_reads_personal_files_and_explains_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "MyData"
    folder.mkdir()
    (folder / "Userdata.json").write_text('{"username": "someone", "email": "a@example.org"}')
    (folder / "UserAddress.json").write_text("List(Map(street -> x))")
    (folder / "notes.txt").write_text("hello")
    good = FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"
    (folder / good.name).write_bytes(good.read_bytes())
    found = detect(open_export(folder))
    assert [(imp.NAME, [e.basename for e in entries]) for imp, entries in found.claims] == [
        ("spotify_extended", [good.name])
    ]
    reasons = {Path(u.path).name: u.reason for u in found.unread}
    assert reasons["Userdata.json"] == "personal data, never read"
    assert reasons["UserAddress.json"] == "personal data, never read"
    assert "not a listening-history file" in reasons["notes.txt"]


def test_damaged_member_is_named(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Streaming_History_Audio_2024_0.json", b"[" + b'{"ts": "x"},' * 2000 + b"{}]")
    data = bytearray(buffer.getvalue())
    data[70:90] = b"\xff" * 20  # damage the compressed stream, not the directory
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ExportError, match=r"damaged\.zip!Streaming_History_Audio_2024_0\.json"):
        for entry in open_export(damaged):
            entry.read_bytes()


def _plays_without_files(path: Path) -> list[tuple[object, ...]]:
    """Every play an import path gives, as sorted rows without the file it came from."""
    found = detect(open_export(path))
    rows: list[tuple[object, ...]] = []
    for importer, entries in found.claims:
        for item in importer.read(entries, ReadOptions(now=NOW)):
            if isinstance(item, PlayBatch):
                table = item.table.drop_columns(["source_file"])
                rows.extend(tuple(r.values()) for r in table.to_pylist())
    return sorted(rows, key=repr)


# One small fixture of every format, each as its service writes it.
ONE_OF_EACH = [
    "spotify_extended/Streaming_History_Audio_2024_1_v2_offline_seconds.json",
    "spotify_account/old_era_podcasts_mixed_in/MyData/StreamingHistory0.json",
    "lastfm/no_header_with_now_playing.csv",
    "lastfm/uts_header_quoted_crlf_same_uts.csv",
    "listenbrainz/export_zip/listens/2024/1.jsonl",
    "apple_music/play_activity_every_row_kind.csv",
    "youtube_music/watch_history_music_and_video_rows.json",
]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("fixture", ONE_OF_EACH)
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_a_byte_order_mark_or_utf16_text_reads_like_plain_utf8(fixture: str, encoding: str, tmp_path: Path) -> None:
    original = DATA / fixture
    expected = _plays_without_files(original)
    assert expected, fixture
    recoded = tmp_path / original.name
    recoded.write_bytes(original.read_text(encoding="utf-8").encode(encoding))
    assert _plays_without_files(recoded) == expected


def test_two_members_of_one_name_are_two_files(tmp_path: Path) -> None:
    fixture = FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"
    other = FIXTURES / "Streaming_History_Video_2023_v3_music_and_episodes.json"
    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as out, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the repeated name, as it should
        out.write(fixture, "Streaming_History_Audio_2024.json")
        out.write(other, "Streaming_History_Audio_2024.json")
    entries = open_export(archive)
    assert [e.path for e in entries] == [
        f"{archive}!Streaming_History_Audio_2024.json",
        f"{archive}!Streaming_History_Audio_2024.json#2",
    ]
    assert [e.read_bytes() for e in entries] == [fixture.read_bytes(), other.read_bytes()]


def test_zips_inside_zips_are_opened_to_a_limit(tmp_path: Path) -> None:
    inner = _zip_folder(FIXTURES, tmp_path / "level3.zip")
    for level in (2, 1):
        wrapper = tmp_path / f"level{level}.zip"
        with zipfile.ZipFile(wrapper, "w") as archive:
            archive.write(inner, f"download/{inner.name}")
        inner = wrapper
    entries = open_export(inner)
    assert sorted(e.basename for e in entries) == sorted(p.name for p in FIXTURES.iterdir())
    assert all(e.path.count("!") == 3 for e in entries)
    for level in range(4, 7):
        wrapper = tmp_path / f"level{level}.zip"
        with zipfile.ZipFile(wrapper, "w") as archive:
            archive.write(inner, inner.name)
        inner = wrapper
    with pytest.raises(ExportError, match="zips nested more than 4 deep"):
        open_export(inner)

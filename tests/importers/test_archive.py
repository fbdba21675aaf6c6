from __future__ import annotations

import hashlib
import io
import tracemalloc
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, samples_path
from tests.helpers.zipbombs import lie_about_size, write_zero_bomb
from tutti.errors import ExportError, UsageError
from tutti.importers import ReadOptions, _archive
from tutti.importers._archive import open_export
from tutti.importers.detect import detect
from tutti.model import PlayBatch
from tutti.settings import ArchiveLimits

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


def _store(members: dict[str, Path | bytes], out: Path, compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            if isinstance(content, Path):
                archive.write(content, name)
            else:
                archive.writestr(name, content)
    return out


def test_a_member_over_the_file_limit_is_refused_from_the_directory(tmp_path: Path) -> None:
    bomb = write_zero_bomb(tmp_path / "export.zip", members=2, mib_each=3)
    with pytest.raises(ExportError, match=r"export\.zip!Streaming_History_0\.json: is 3145728 bytes unpacked, over"):
        open_export(bomb, limits=ArchiveLimits(max_file_bytes=2 * 1024**2))


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    bomb = write_zero_bomb(tmp_path / "export.zip", members=1, mib_each=64)
    with pytest.raises(ExportError, match=r"Streaming_History_0\.json: is compressed 10\d\d to 1, more than the 200"):
        open_export(bomb, limits=ArchiveLimits())


def test_a_real_export_compressed_hard_is_within_the_ratio(tmp_path: Path) -> None:
    export = _store({f.name: f for f in FIXTURES.iterdir()}, tmp_path / "export.zip", zipfile.ZIP_DEFLATED)
    assert len(open_export(export, limits=ArchiveLimits(max_ratio=20))) == len(list(FIXTURES.iterdir()))


@pytest.mark.samples
def test_the_largest_real_sample_zipped_hard_is_within_the_ratio(tmp_path: Path) -> None:
    largest = max((p for p in samples_path().rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.write(largest, largest.name)
    [entry] = open_export(export, limits=ArchiveLimits())
    assert entry.read_bytes()[:64] == largest.read_bytes()[:64].removeprefix(b"\xef\xbb\xbf")


def test_files_and_bytes_are_counted_across_nested_zips(tmp_path: Path) -> None:
    files = sorted(p for p in FIXTURES.iterdir())
    inner = _store({f.name: f for f in files}, tmp_path / "inner.zip")
    outer = _store({"a/inner.zip": inner, "b/inner.zip": inner}, tmp_path / "outer.zip")
    assert len(open_export(outer, limits=ArchiveLimits(max_files=2 + 2 * len(files)))) == 2 * len(files)
    with pytest.raises(ExportError, match=r"outer\.zip!b/inner\.zip: holds more than the 7 files"):
        open_export(outer, limits=ArchiveLimits(max_files=2 + 2 * len(files) - 1))
    unpacked = 2 * inner.stat().st_size + 2 * sum(f.stat().st_size for f in files)
    with pytest.raises(ExportError, match=r"outer\.zip!b/inner\.zip: unpacks to more than the limit"):
        open_export(outer, limits=ArchiveLimits(max_total_bytes=unpacked - 1))


def test_compression_methods_exports_never_use_are_refused(tmp_path: Path) -> None:
    export = _store({"Streaming_History_0.json": b"[]" * 1000}, tmp_path / "export.zip", zipfile.ZIP_BZIP2)
    with pytest.raises(ExportError, match=r"Streaming_History_0\.json: is packed with compression method 12"):
        open_export(export)


def test_a_member_that_lies_about_its_size_stops_at_the_declared_size(tmp_path: Path) -> None:
    # 256 MiB of zeros whose headers say 1,000 bytes: a reader trusting zipfile's read() would inflate all of it.
    liar = lie_about_size(write_zero_bomb(tmp_path / "export.zip", members=1, mib_each=256), 1000)
    [entry] = open_export(liar)
    assert entry.size == 1000
    tracemalloc.start()
    try:
        with pytest.raises(ExportError, match=r"export\.zip!Streaming_History_0\.json: is damaged .*CRC"):
            entry.read_bytes()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024**2, f"reading a lying member took {peak} bytes"


def test_nested_zips_are_spooled_to_unnamed_files_not_memory(tmp_path: Path) -> None:
    payload = tmp_path / "Streaming_History_Audio_2024.json"
    payload.write_bytes(b"[" + b" " * (48 * 1024**2) + b"]")
    inner = _store({payload.name: payload}, tmp_path / "inner.zip")
    outer = _store({"download/inner.zip": inner}, tmp_path / "outer.zip")
    spool = tmp_path / "spool"
    spool.mkdir()
    tracemalloc.start()
    try:
        entries = open_export(outer, spool=spool)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024**2, f"opening a 48 MiB nested zip took {peak} bytes"
    assert [e.path for e in entries] == [f"{outer}!download/inner.zip!{payload.name}"]
    assert list(spool.iterdir()) == []  # the spooled zip has no name: nothing to leave behind
    assert entries[0].digest() == hashlib.sha256(payload.read_bytes()).hexdigest()


def test_nesting_is_refused_before_the_deeper_zip_is_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inner = _store({"a.json": b"[]"}, tmp_path / "level3.zip")
    for level in (2, 1):
        inner = _store({f"l{level}.zip": inner}, tmp_path / f"level{level}.zip")
    unpacked: list[str] = []
    real_spool = _archive._spool

    def spool(archive: Any, info: Any, label: str, spool: Any) -> Any:
        unpacked.append(label)
        return real_spool(archive, info, label, spool)

    monkeypatch.setattr(_archive, "_spool", spool)
    with pytest.raises(ExportError, match="zips nested more than 2 deep"):
        open_export(inner, limits=ArchiveLimits(max_nesting=2))
    assert unpacked == [f"{inner}!l1.zip"]


def test_a_single_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "scrobbles.csv"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(ExportError, match=r"scrobbles\.csv: is 2048 bytes unpacked, over the limit of 1024"):
        open_export(big, limits=ArchiveLimits(max_file_bytes=1024))
    with pytest.raises(ExportError, match=r"is 2048 bytes unpacked"):
        open_export(tmp_path, limits=ArchiveLimits(max_file_bytes=1024))


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTTI_MAX_FILE_BYTES", "4096")
    monkeypatch.setenv("TUTTI_MAX_ZIP_NESTING", "2")
    assert ArchiveLimits.from_env() == ArchiveLimits(max_file_bytes=4096, max_nesting=2)
    monkeypatch.setenv("TUTTI_MAX_COMPRESSION_RATIO", "-3")
    with pytest.raises(UsageError, match="TUTTI_MAX_COMPRESSION_RATIO must be a positive whole number"):
        ArchiveLimits.from_env()

"""Reading an upload with the store's importers, narrowing it to what the pool keeps, and cross-file consistency."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.compute as pc
import pytest

from tests.conftest import samples_path
from tests.helpers.fabrications import PADDING, zip_folder
from tutti.coop.contributions.consistency import consistency
from tutti.coop.contributions.reading import read_upload
from tutti.coop.pool.contract import DROPPED_COLUMNS, POOL_SCHEMA, play_identity

IDENTIFYING = {"ip_addr", "ip_addr_decrypted", "user_agent_decrypted", "username", "email", "conn_ip"}


@pytest.mark.samples
def test_a_zipped_account_export_is_read_per_file_and_personal_files_are_not(tmp_path: Path) -> None:
    upload = zip_folder(samples_path("spotify-account", "hobbies-w-erin", "Spotify Account Data"), tmp_path / "my.zip")
    read = read_upload([upload])
    assert read.error is None
    by_name = {f.name: f for f in read.files}
    assert by_name["my.zip!Spotify Account Data/StreamingHistory_music_0.json"].plays == 10_000
    assert by_name["my.zip!Spotify Account Data/StreamingHistory_music_0.json"].format == "spotify_account"
    for personal in ("Userdata.json", "Identity.json", "Payments.json", "UserAddress.json", "Identifiers.json"):
        assert by_name[f"my.zip!Spotify Account Data/{personal}"].unread_reason == "personal data, never read"
    assert read.table.num_rows == sum(f.plays for f in read.files) == 16_458
    assert read.problems == 0


def test_no_local_path_reaches_the_table_or_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "Jane Doe's laptop" / "upload"
    folder.mkdir(parents=True)
    (folder / "Streaming_History_Audio_2024.json").write_bytes(
        (PADDING / "Streaming_History_Audio_2024.json").read_bytes()
    )
    read = read_upload([folder / "Streaming_History_Audio_2024.json"])
    assert set(read.table.column("source_file").to_pylist()) == {"Streaming_History_Audio_2024.json"}
    assert [f.name for f in read.files] == ["Streaming_History_Audio_2024.json"]


def test_pool_rows_keep_nothing_identifying_or_free_text(tmp_path: Path) -> None:
    read = read_upload([PADDING])
    rows = play_identity(read.table)
    assert rows.schema == POOL_SCHEMA
    assert not set(DROPPED_COLUMNS) & set(rows.column_names)
    assert not IDENTIFYING & set(rows.column_names)
    # The fixture's records carry an IP address; it is not anywhere in the rows.
    assert "192.0.2.1" not in orjson.dumps(rows.to_pylist(), default=str).decode()


def test_a_damaged_zip_is_an_error_of_the_upload_not_an_exception(tmp_path: Path) -> None:
    broken = tmp_path / "my_spotify_data.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    read = read_upload([broken], roots=[tmp_path])
    assert read.error is not None and "is not a readable zip archive" in read.error
    assert str(tmp_path) not in read.error
    assert read.table.num_rows == 0


def test_future_and_broken_records_are_counted_per_file(tmp_path: Path) -> None:
    records = orjson.loads((PADDING / "Streaming_History_Audio_2024.json").read_bytes())
    records[0]["ts"] = "2099-01-01T00:00:00Z"
    records[1]["ms_played"] = "many"
    path = tmp_path / "Streaming_History_Audio_2024.json"
    path.write_bytes(orjson.dumps(records))
    [file] = read_upload([path]).files
    assert (file.plays, file.problems, file.implausible) == (148, 2, 1)
    assert any("in the future" in example for example in file.problem_examples)


@pytest.mark.samples
def test_extended_history_and_account_data_of_one_person_agree() -> None:
    read = read_upload([samples_path("spotify-account", "alanindra"), samples_path("spotify-extended", "alanindra")])
    result = consistency(read.table)
    assert result.passed and result.disagreeing == 0
    assert result.shared > 400
    assert all(p.shared > 0 for p in result.pairs)


@pytest.mark.samples
def test_an_edited_copy_of_the_same_plays_disagrees(tmp_path: Path) -> None:
    extended = samples_path("spotify-extended", "alanindra", "Streaming_History_Video_2022-2026.json")
    records = orjson.loads(extended.read_bytes())
    for record in records:
        record["ms_played"] = record["ms_played"] + 7_000
    edited = tmp_path / "Streaming_History_Video_2022-2026.json"
    edited.write_bytes(orjson.dumps(records))
    read = read_upload([samples_path("spotify-account", "alanindra"), edited])
    result = consistency(read.table)
    assert not result.passed
    assert result.disagreeing > 0.9 * result.shared
    assert "disagree on the time played" in result.reason
    edited_pairs = [p for p in result.pairs if "Streaming_History_Video_2022-2026.json" in (p.file_a, p.file_b)]
    assert edited_pairs and all(p.disagreeing for p in edited_pairs)


@pytest.mark.samples
def test_a_single_file_has_nothing_to_disagree_with() -> None:
    read = read_upload([samples_path("spotify-extended", "mica-92")])
    result = consistency(read.table)
    assert result.passed and result.shared == 0
    assert pc.sum(pc.is_null(read.table.column("end_utc"))).as_py() == 0

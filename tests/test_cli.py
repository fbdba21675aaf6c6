from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, samples_path
from tutti.cli import app

FIXTURES = DATA / "spotify_extended"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TUTTI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TUTTI_PROFILE", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.mark.samples
def test_import_then_summary_json_matches_an_independent_count(run) -> None:  # type: ignore[no-untyped-def]
    path = samples_path("spotify-extended", "mica-92", "Streaming_History_Audio_2024_4.json")
    raw = [r for r in json.loads(path.read_text(encoding="utf-8")) if not r["incognito_mode"]]
    code, out, _ = run("import", str(path), "--json")
    assert code == 0
    report = json.loads(out)["imports"][0]
    assert report["added"] == len(raw)
    code, out, _ = run("summary", "--json")
    assert code == 0
    figures = json.loads(out)
    assert figures["events"] == len(raw)
    assert figures["ms_played"] == sum(r["ms_played"] for r in raw)
    assert figures["plays"] == sum(1 for r in raw if r["ms_played"] >= 30_000 and not r["skipped"])
    assert figures["rule"] == "default-v1"
    assert figures["first_utc"] < figures["last_utc"]


def test_import_prints_what_was_added_and_skipped(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("import", str(FIXTURES))
    assert code == 0
    assert "added 9" in out
    assert "incognito" in out
    code, out, _ = run("import", str(FIXTURES))
    assert "added 0" in out and "already stored 9" in out


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("my_spotify_data_corrupt.zip", "is not a readable zip archive"),
        ("Streaming_History_Audio_truncated.json", "truncated"),
        ("Streaming_History_Audio_not_utf8.json", "not UTF-8"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_1(run, name: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("import", str(DATA / "bad" / name))
    assert code == 1
    assert err.startswith("error:")
    assert name in err and fragment in err
    assert "Traceback" not in out + err


def test_impossible_records_are_listed_by_file_and_record(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("import", str(DATA / "bad" / "Streaming_History_Audio_impossible_values.json"))
    assert code == 0
    assert "unreadable records skipped: 3" in out
    assert "Streaming_History_Audio_impossible_values.json: record 1: negative ms_played" in out


def test_unknown_profile_and_rule_are_usage_errors(run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("summary", "--profile", "nobody")
    assert code == 1 and "no profile named 'nobody'" in err
    run("import", str(FIXTURES))
    code, _, err = run("summary", "--rule", "weird")
    assert code == 1 and "unknown play rule" in err


def test_export_writes_every_play_in_open_formats(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("import", str(FIXTURES))
    jsonl, parquet = tmp_path / "plays.jsonl", tmp_path / "plays.parquet"
    assert run("export", "--out", str(jsonl))[0] == 0
    assert run("export", "--format", "parquet", "--out", str(parquet))[0] == 0
    listens = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(listens) == 9 == pq.read_table(parquet).num_rows
    first = listens[0]
    assert set(first) == {"listened_at", "track_metadata"}
    assert first["track_metadata"]["additional_info"]["submission_client"] == "tutti"
    code, _, err = run("export", "--format", "xml", "--out", str(tmp_path / "x"))
    assert code == 1 and "unknown format" in err


def test_profiles_lists_each_profile(run) -> None:  # type: ignore[no-untyped-def]
    run("import", str(FIXTURES), "--profile", "ana")
    run("import", str(FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"), "-p", "ben")
    code, out, _ = run("profiles", "--json")
    assert code == 0
    assert {p["name"]: p["events"] for p in json.loads(out)} == {"ana": 9, "ben": 2}


def test_demo_imports_a_generated_history_and_merges_its_scrobbles(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("demo")
    assert code == 0
    assert "merged as copies of plays from another source" in out
    assert "Listening history of demo" in out
    code, out, _ = run("duplicates", "--profile", "demo", "--json")
    merges = json.loads(out)
    assert code == 0 and len(merges) > 1000
    events = json.loads(run("summary", "-p", "demo", "--json")[1])["events"]
    code, out, _ = run("duplicates", "-p", "demo", "--undo", str(merges[0]["merge_id"]))
    assert code == 0 and "undone" in out
    assert json.loads(run("summary", "-p", "demo", "--json")[1])["events"] == events + 1
    code, _, err = run("duplicates", "-p", "demo", "--undo", "999999")
    assert code == 1 and "no merge number 999999" in err


def test_timezone_records_changes_and_rejects_unknown_zones(run) -> None:  # type: ignore[no-untyped-def]
    run("import", str(FIXTURES))
    code, out, _ = run("timezone", "Europe/Madrid")
    assert code == 0 and "Europe/Madrid" in out
    code, out, _ = run("timezone", "America/Argentina/Buenos_Aires", "--since", "2020-06-01")
    assert "Europe/Madrid → America/Argentina/Buenos_Aires (from 2020-06-01)" in out
    code, _, err = run("timezone", "Mars/Base")
    assert code == 1 and "unknown time zone 'Mars/Base'" in err
    code, _, err = run("timezone", "UTC", "--since", "yesterday")
    assert code == 1 and "is not a day" in err

from __future__ import annotations

import json
import os
import shutil
import socket
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, ROOT, samples_path
from tutti.cli import app

FIXTURES = DATA / "spotify_extended"
README = (ROOT / "README.md").read_text(encoding="utf-8")
IMPOSSIBLE = DATA / "bad" / "Streaming_History_Audio_impossible_values.json"


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


def test_impossible_records_are_listed_by_file_and_record(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "export"
    export.mkdir()
    for source in (FIXTURES / "Streaming_History_Audio_2024_1_v2_offline_seconds.json", IMPOSSIBLE):
        shutil.copy(source, export / source.name)
    code, out, _ = run("import", str(export))
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
    assert {p["name"]: p["events"] for p in json.loads(out)["profiles"]} == {"ana": 9, "ben": 2}


def test_demo_imports_a_generated_history_and_merges_its_scrobbles(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("demo")
    assert code == 0
    assert "merged as copies of plays from another source" in out
    assert "Listening history of demo" in out
    code, out, _ = run("duplicates", "--profile", "demo", "--json")
    merges = json.loads(out)["merges"]
    assert code == 0 and len(merges) > 1000
    events = json.loads(run("summary", "-p", "demo", "--json")[1])["events"]
    code, out, _ = run("duplicates", "-p", "demo", "--undo", str(merges[0]["merge_id"]))
    assert code == 0 and "undone" in out
    assert json.loads(run("summary", "-p", "demo", "--json")[1])["events"] == events + 1
    code, _, err = run("duplicates", "-p", "demo", "--undo", "999999")
    assert code == 1 and "no merge number 999999" in err


def _readme_commands() -> list[list[str]]:
    """The commands of the README's "Using it" block that read the store (imports and changes left out)."""
    block = README.split("## Using it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].split() for line in block.strip().splitlines()]
    return [c[1:] for c in commands if c[1] not in ("import", "timezone") and "--undo" not in c]


def test_every_readme_command_works_after_the_demo(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("demo")
    assert code == 0, err
    assert "/tmp" not in out and "tutti-demo-" not in out  # nothing that vanishes when the command ends
    year = datetime.now(UTC).year
    assert f"tutti recap {year} --profile demo" in out
    monkeypatch.setenv("TUTTI_PROFILE", "demo")
    monkeypatch.chdir(tmp_path)
    commands = _readme_commands()
    assert {c[0] for c in commands} >= {"summary", "duplicates", "export", "profiles", "recap", "cards", "formats"}
    for command in [*commands, ["recap", str(year), "--json"], ["cards", str(year)]]:
        args = [a for a in command if a != "--open"]
        code, out, err = run(*args)
        assert code == 0, (args, err)
        assert "Traceback" not in out + err
        if args[0] == "recap" and "--json" in args:
            assert json.loads(out)["coverage"]["status"] in ("full", "partial")
            assert json.loads(out)["totals"]["plays"] > 100


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


@pytest.mark.samples
def test_timezone_lists_confirms_and_removes_what_the_export_suggests(run) -> None:  # type: ignore[no-untyped-def]
    run("import", str(samples_path("spotify-extended", "efrrowini")))
    code, out, _ = run("timezone")
    # Nothing set is said so, never printed as if it were recorded.
    assert code == 0 and "no time zone set for me" in out and "time zones set" not in out
    assert "Asia/Kolkata  from the beginning: connection country IN (Spotify)" in out
    assert "recaps use Asia/Kolkata: not set: suggested by your export" in out
    _, _, err = run("recap", "all")
    assert "time zone Asia/Kolkata: not set: suggested by your export" in err
    code, out, _ = run("timezone", "--confirm")
    assert code == 0 and "time zones set for me:\n  Asia/Kolkata  from the beginning" in out
    assert "recaps use Asia/Kolkata: as you set it" in out
    code, out, _ = run("timezone", "Europe/Paris", "--since", "2023-01-01")
    assert "Asia/Kolkata → Europe/Paris (from 2023-01-01)" in out
    code, out, _ = run("timezone", "--remove", "--since", "2023-01-01")
    assert code == 0 and "Europe/Paris" not in out
    code, out, _ = run("timezone", "--remove")
    assert code == 0 and "no time zone set for me" in out
    code, _, err = run("timezone", "--remove")
    assert code == 1 and "me has no zone entry from the beginning" in err
    code, _, err = run("timezone", "UTC", "--remove")
    assert code == 1 and "one at a time" in err
    code, _, err = run("timezone", "--since", "2023-01-01")  # nothing to do from that day: said, not ignored
    assert code == 1 and "--since DAY goes with a ZONE" in err


def _one_line_error(code: int, out: str, err: str) -> str:
    """The command failed the way every bad input must: exit 1, nothing on stdout, one line on stderr."""
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_a_damaged_store_is_one_line_naming_the_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("import", str(FIXTURES))
    store_file = tmp_path / "home" / "tutti.duckdb"
    os.truncate(store_file, store_file.stat().st_size // 2)
    for command in (["profiles"], ["import", str(FIXTURES)], ["duplicates"], ["summary"]):
        line = _one_line_error(*run(*command))
        assert f"{store_file}: the store is damaged" in line


def _unreadable_file(folder: Path) -> Path:
    """A path that exists but that no one, not even root, can open as a file: a Unix socket."""
    path = folder / "Streaming_History_Audio_2024.json"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
    return path


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """Each bad input of `tutti import` and `tutti export`, with what its one line of error must say."""
    (tmp_path / "empty").mkdir()
    zipfile.ZipFile(tmp_path / "empty.zip", "w").close()
    (tmp_path / "random.bin").write_bytes(os.urandom(3000))
    (tmp_path / "a file").write_text("not a folder")
    nothing = "nothing Tutti can read here"
    return {
        "missing path": (["import", str(tmp_path / "nope.zip")], f"{tmp_path / 'nope.zip'}: does not exist"),
        "unreadable file": (["import", str(_unreadable_file(tmp_path))], "cannot be read (No such device"),
        "random binary": (["import", str(tmp_path / "random.bin")], f"random.bin: {nothing} (1 file"),
        "empty zip": (["import", str(tmp_path / "empty.zip")], f"empty.zip: {nothing} (no files)"),
        "empty folder": (["import", str(tmp_path / "empty")], f"empty: {nothing} (no files): see `tutti formats`"),
        "every record refused": (["import", str(IMPOSSIBLE)], "none of its 3 records could be read (record 0: ts"),
        "damaged zip": (["import", str(DATA / "bad" / "my_spotify_data_corrupt.zip")], "not a readable zip archive"),
        "truncated file": (["import", str(DATA / "bad" / "Streaming_History_Audio_truncated.json")], "truncated"),
        "not UTF-8": (["import", str(DATA / "bad" / "Streaming_History_Audio_not_utf8.json")], "is not UTF-8"),
        "bad profile name": (["import", str(FIXTURES), "-p", "no spaces"], "profile name 'no spaces' must be"),
        "store folder is a file": (["import", str(FIXTURES), "--home", str(tmp_path / "a file")], "a file: cannot"),
        "export into a missing folder": (
            ["export", "--out", str(tmp_path / "gone" / "plays.jsonl")],
            f"plays.jsonl: cannot write here: the folder {tmp_path / 'gone'} does not exist",
        ),
        "parquet into a missing folder": (
            ["export", "-f", "parquet", "--out", str(tmp_path / "gone" / "plays.parquet")],
            f"plays.parquet: cannot write here: the folder {tmp_path / 'gone'} does not exist",
        ),
        "export onto a folder": (["export", "--out", str(tmp_path)], "cannot write here: it is a folder"),
        "parquet onto a folder": (
            ["export", "-f", "parquet", "-o", str(tmp_path)],
            "cannot write here: it is a folder",
        ),
        "export under a file": (["export", "-o", str(tmp_path / "a file" / "x.jsonl")], "a file is not a folder"),
        "unknown export format": (["export", "-f", "xml", "-o", str(tmp_path / "x")], "unknown format 'xml'"),
        "export of an unknown profile": (["export", "-p", "nobody", "-o", str(tmp_path / "x")], "no profile named"),
        "undo of an unknown merge": (["duplicates", "--undo", "999"], "has no merge number 999"),
        "recap into a path under a file": (
            ["recap", "all", "--out", str(tmp_path / "a file" / "page.html")],
            f"cannot write the recap to {tmp_path / 'a file' / 'page.html'}: ",
        ),
        "recap of a bad period": (["recap", "2024-13"], "period '2024-13' cannot be read"),
        "recap of an unknown profile": (["recap", "all", "-p", "nobody"], "no profile named"),
        "recap with an unknown zone": (["recap", "all", "--tz", "Mars/Olympus"], "Mars/Olympus"),
        "cards into a path under a file": (
            ["cards", "all", "--out", str(tmp_path / "a file" / "cards")],
            f"cannot write the cards to {tmp_path / 'a file' / 'cards'}: ",
        ),
        "cards of an empty period": (["cards", "1990"], "No listening stored in 1990: your history runs from"),
        "cards of a bad period": (["cards", "someday"], "period 'someday' cannot be read"),
        "summary of an unknown profile": (["summary", "-p", "nobody"], "no profile named"),
    }


BAD_INPUTS = [
    "missing path",
    "unreadable file",
    "random binary",
    "empty zip",
    "empty folder",
    "every record refused",
    "damaged zip",
    "truncated file",
    "not UTF-8",
    "bad profile name",
    "store folder is a file",
    "export into a missing folder",
    "parquet into a missing folder",
    "export onto a folder",
    "parquet onto a folder",
    "export under a file",
    "unknown export format",
    "export of an unknown profile",
    "undo of an unknown merge",
    "recap into a path under a file",
    "recap of a bad period",
    "recap of an unknown profile",
    "recap with an unknown zone",
    "cards into a path under a file",
    "cards of an empty period",
    "cards of a bad period",
    "summary of an unknown profile",
]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_every_bad_input_is_one_line_naming_it_and_exit_1(run, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    if case.startswith(("export", "parquet", "undo", "recap", "cards", "summary")):
        assert run("import", str(FIXTURES))[0] == 0
    args, said = _bad_inputs(tmp_path)[case]
    assert said in _one_line_error(*run(*args))


@pytest.mark.parametrize("case", ["random binary", "empty zip", "empty folder", "every record refused"])
def test_importing_nothing_readable_creates_no_profile(run, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    args, _ = _bad_inputs(tmp_path)[case]
    _one_line_error(*run(*args))
    code, out, _ = run("profiles", "--json")
    assert code == 0 and json.loads(out) == {"profiles": []}


def test_names_with_brackets_are_shown_as_they_are(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    named = tmp_path / "[red]history[bold].json"
    shutil.copy(DATA / "bad" / "Streaming_History_Audio_truncated.json", named)
    assert f"{named}: is truncated" in _one_line_error(*run("import", str(named)))


def test_an_empty_period_gets_a_page_that_says_so_and_exit_1(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("import", str(FIXTURES))[0] == 0
    page = tmp_path / "empty.html"
    code, out, err = run("recap", "1990", "--out", str(page))
    assert code == 1 and "Traceback" not in out + err
    assert out.strip() == str(page) and "Nothing to tell" in page.read_text(encoding="utf-8")
    assert err.strip().splitlines()[-1].startswith("error: No listening stored in 1990: your history runs from")
    code, out, err = run("recap", "1990", "--json")
    assert code == 1 and json.loads(out)["coverage"]["status"] == "empty"
    assert err.strip().startswith("error: No listening stored in 1990")


def test_cards_default_to_a_folder_beside_the_store(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("import", str(FIXTURES))[0] == 0
    code, out, err = run("cards", "all")
    assert code == 0, err
    written = [Path(line) for line in out.splitlines()]
    assert written and all(p.parent == tmp_path / "home" / "cards" / "me-all" and p.is_file() for p in written)

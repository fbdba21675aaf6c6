"""What the library commands print for scripts: JSON that validates against the schemas in docs/schemas, with
numbers as numbers, times in ISO 8601 UTC and no absolute paths unless asked; and help in words."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, ROOT
from tutti.cli import app
from tutti.importers import formats
from tutti.model import ProblemKind

SCHEMAS = ROOT / "docs" / "schemas"
EVENING = DATA / "merges" / "one_evening_three_exports"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TUTTI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TUTTI_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)  # relative import paths, as a person types them, are tested too
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return json.loads(result.stdout)

    return invoke


def _valid(name: str, data: Any) -> Any:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)
    return data


def _strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [s for value in data.values() for s in _strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in _strings(value)]
    return [data] if isinstance(data, str) else []


def _times(data: Any) -> list[str]:
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k.endswith("_utc") and v is not None]
        return found + [t for value in data.values() for t in _times(value)]
    if isinstance(data, list):
        return [t for value in data for t in _times(value)]
    return []


def test_import_json_validates_and_names_files_as_the_export_does(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = DATA / "bad" / "Streaming_History_Audio_impossible_values.json"
    mixed = tmp_path / "downloads" / "mixed"
    mixed.mkdir(parents=True)
    for source in (bad, DATA / "spotify_extended" / "Streaming_History_Audio_2024_1_v2_offline_seconds.json"):
        (mixed / source.name).write_bytes(source.read_bytes())
    account = DATA / "spotify_account" / "new_era_split_files"
    data = _valid("import", run("import", str(EVENING / "spotify_extended"), str(account), str(mixed), "--json"))
    extended, split, mixed_report = data["imports"]
    assert extended["path"] == "spotify_extended" and extended["added"] == 6
    assert {p["kind"] for p in mixed_report["problems"]} == {"invalid_time", "negative_duration", "implausible_time"}
    assert mixed_report["problems"][0]["file"] == "mixed/Streaming_History_Audio_impossible_values.json"
    assert [n["count"] for n in split["notes"]] == [1]
    assert {u["file"].split("/")[0] for u in split["unread"]} == {"new_era_split_files"}
    assert not [s for s in _strings(data) if str(tmp_path) in s or str(ROOT) in s]

    again = _valid("import", run("import", "downloads/mixed", "--json", "--full-paths"))
    assert again["imports"][0]["problems"][0]["file"] == str(mixed / bad.name)


def test_profiles_duplicates_export_and_formats_json_validate(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("import", *(str(EVENING / name) for name in ("spotify_extended", "spotify_account", "lastfm")), "--json")
    profiles = _valid("profiles", run("profiles", "--json"))
    assert profiles["profiles"][0] == {
        "name": "me",
        "events": 7,
        "first_utc": "2024-08-02T20:00:11.026000Z",
        "last_utc": "2024-08-02T20:20:10Z",
    }
    merges = _valid("duplicates", run("duplicates", "--json"))["merges"]
    assert len(merges) == 11 and all(isinstance(m["delta_ms"], int) for m in merges)
    times = _times(merges)
    assert times and all(datetime.fromisoformat(t).utcoffset() is not None and t.endswith("Z") for t in times)
    undone = _valid("duplicates", run("duplicates", "--undo", str(merges[0]["merge_id"]), "--json"))
    assert undone == {"profile": "me", "undone": merges[0]["merge_id"]}
    out = tmp_path / "plays.parquet"
    written = _valid("export", run("export", "-f", "parquet", "-o", str(out), "--json"))
    assert written == {"profile": "me", "format": "parquet", "out": str(out), "plays": 8}
    listed = _valid("formats", run("formats", "--json"))
    assert [f["name"] for f in listed["formats"]] == [f.name for f in formats()]


def test_recap_json_validates_against_its_schema(run) -> None:  # type: ignore[no-untyped-def]
    run("import", str(DATA / "spotify_extended"), "--json")
    data = _valid("recap", run("recap", "all", "--json", "--tz", "Europe/Berlin"))
    assert data["coverage"]["status"] == "full" and data["measure"] == "time"
    assert data["generated_utc"].endswith("Z") and isinstance(data["totals"]["ms_played"], int)
    assert not [s for s in _strings(data) if s.startswith("/")]


def test_the_schemas_name_every_format_and_problem_kind() -> None:
    imported = json.loads((SCHEMAS / "import.schema.json").read_text(encoding="utf-8"))
    report = imported["properties"]["imports"]["items"]["properties"]
    assert report["formats"]["items"]["properties"]["format"]["enum"] == [f.name for f in formats()]
    assert report["problems"]["items"]["properties"]["kind"]["enum"] == [k.value for k in ProblemKind]


COMMANDS = [
    "import", "export", "duplicates", "profiles", "formats", "timezone", "demo", "summary", "recap", "cards",
    "coop init", "coop serve", "coop worker", "coop rotate-master-key", "coop contribute", "coop log verify",
    "coop log checkpoint", "coop log key",
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_values_in_words(command: str) -> None:
    result = CliRunner().invoke(app, [*command.split(), "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert not re.search(r"<[A-Za-z]", result.stdout), result.stdout  # no <str>, <bool>, <path>, <list[Path]>


def test_formats_prints_the_definitions_and_problem_kinds() -> None:
    result = CliRunner().invoke(app, ["formats"])
    assert result.exit_code == 0
    for term in ("artist:", "track:", "Unknown Artist, Unknown Track:", "hour and day of a play:"):
        assert term in result.stdout
    assert all(f"{kind.value}:" in result.stdout for kind in ProblemKind)

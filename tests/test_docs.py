"""The README documents every command and setting (and keeps its two opening commands)."""

from __future__ import annotations

from tests.conftest import ROOT
from tutti.cli import app
from tutti.definitions import DEFINITIONS
from tutti.importers import formats
from tutti.model import PROBLEM_KINDS
from tutti.settings import SETTINGS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_setup_commands() -> None:
    block = README.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert "tutti demo" in block[0]
    assert "scripts/check" in block[1]


def test_every_command_is_documented() -> None:
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        assert f"tutti {name}" in README, f"`tutti {name}` is not in the README"


def test_every_setting_is_documented() -> None:
    for setting in SETTINGS:
        assert f"`{setting.env}`" in README


def test_every_format_is_documented() -> None:
    for fmt in formats():
        assert f"`{fmt.name}`" in README


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_definition_is_in_the_readme_word_for_word() -> None:
    for definition in DEFINITIONS:
        assert _flat(f"**{definition.term}**: {definition.meaning}") in _flat(README), definition.term


def test_every_problem_kind_is_documented() -> None:
    for kind, meaning in PROBLEM_KINDS.items():
        assert f"| `{kind.value}` | {meaning} |" in README


def test_every_library_command_with_json_has_a_schema() -> None:
    for name in ("import", "export", "duplicates", "profiles", "formats"):
        assert (ROOT / "docs" / "schemas" / f"{name}.schema.json").is_file()
        assert f"`{name}`" in README.split("### For scripts", 1)[1].split("##", 1)[0]
    assert "docs/schemas/recap.schema.json" in README.split("### For scripts", 1)[1].split("##", 1)[0]
    assert (ROOT / "docs" / "schemas" / "recap.schema.json").is_file()

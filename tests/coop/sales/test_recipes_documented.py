"""Every data recipe is in the README's table of recipes, with its kind."""

from __future__ import annotations

from tests.conftest import ROOT
from tutti.coop.sales.recipes import RECIPES

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_recipe_is_documented_with_its_kind() -> None:
    table = README.split("### Sales and privacy", 1)[1].split("###", 1)[0]
    for name, recipe in RECIPES.items():
        rows = [line for line in table.splitlines() if line.startswith(f"| `{name}` |")]
        assert len(rows) == 1, f"recipe {name} is not in the README's table"
        assert rows[0].split("|")[2].strip().startswith(recipe.kind), name

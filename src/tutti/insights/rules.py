"""What counts as a play: a named, versioned rule applied at query time and printed with every figure."""

from __future__ import annotations

from dataclasses import dataclass

from tutti.errors import UsageError


@dataclass(frozen=True)
class PlayRule:
    name: str
    version: int
    min_ms: int
    exclude_skips: bool

    @property
    def label(self) -> str:
        return f"{self.name}-v{self.version}"

    @property
    def description(self) -> str:
        skips = "; skipped plays (forward/back button) do not count" if self.exclude_skips else ""
        return (
            f"a play counts when at least {self.min_ms / 1000:g} s were played "
            f"(scrobbles, which record only listens, always count){skips}"
        )

    def sql(self, alias: str = "p") -> str:
        """A SQL condition, true for the rows of ``alias`` that count as plays."""
        condition = f"({alias}.ms_played IS NULL OR {alias}.ms_played >= {int(self.min_ms)})"
        if self.exclude_skips:
            condition += f" AND NOT coalesce({alias}.skipped, false)"
        return condition


DEFAULT_RULE = PlayRule("default", 1, 30_000, exclude_skips=True)
ANY_RULE = PlayRule("any", 1, 0, exclude_skips=False)
RULES: dict[str, PlayRule] = {r.name: r for r in (DEFAULT_RULE, ANY_RULE)}


def rule_named(name: str) -> PlayRule:
    try:
        return RULES[name]
    except KeyError:
        raise UsageError(f"unknown play rule {name!r}; known rules: {', '.join(RULES)}") from None

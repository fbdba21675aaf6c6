"""What a proposal proposes, as typed and versioned records: a data sale or licence, or a policy change.

Stored as JSON in ``proposal.terms`` with ``version``; ``*_from`` read them back and refuse anything malformed with
an ``InvalidInput`` naming the field. Money is an integer of minor units with its ISO 4217 currency (the number of
minor units comes from the currency, never assumed to be 2). The recipe of a sale (what leaves the cooperative and
how it is protected) is named with its version and privacy parameters; the recipes themselves are defined by the
sales module, which will check the name and parameters against them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tutti.coop.contributions import scoring
from tutti.coop.errors import InvalidInput

TERMS_VERSION = 1
# ISO 4217 codes the cooperative accepts, with their number of minor units.
CURRENCIES: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2,
    "CAD": 2, "AUD": 2, "NZD": 2, "BRL": 2, "MXN": 2, "INR": 2, "ZAR": 2, "JPY": 0, "KRW": 0, "ISK": 0,
    "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "TND": 3,
}  # fmt: skip
# What a sale may be for; members may exclude any of them (``consent``).
PURPOSES: dict[str, str] = {
    "ai-training": "training or tuning AI models",
    "research": "academic or public-interest research",
    "music-industry": "analysis for labels, artists or publishers",
    "product-analytics": "improving a listening product or service",
    "advertising": "advertising or marketing",
}
# What kind of data leaves: only ``aggregates`` suits members who allow aggregates only.
DATA_KINDS: dict[str, str] = {
    "aggregates": "statistics over many members, none of them alone",
    "per-member": "one record per included member, under a pseudonym of this sale only",
    "rows": "pseudonymous play rows with coarsened times",
}
DELIVERIES: dict[str, str] = {
    "files": "files, downloaded by the approved buyer only",
    "query": "aggregate queries answered where the data lives",
}
THRESHOLDS: dict[str, str] = {
    "simple": "more yes than no",
    "super": "at least two thirds of the yes and no votes are yes",
}
WEIGHTINGS: dict[str, str] = {
    "equal": "one member, one vote",
    "banded": "1, 2 or 3 votes by contribution band (see docs/governance.md for what a band can reveal)",
}
SHARE_BASES: dict[str, str] = {
    "points": "by contribution points",
    "equal": "in equal shares",
    "mix": "half in equal shares, half by contribution points",
}
MAX_PRICE_MINOR = 10**15
MAX_TEXT = 4000
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


def price_text(minor: int, currency: str) -> str:
    """An amount as it reads: ``1,250.00 EUR``, with the currency's own number of minor units."""
    digits = CURRENCIES.get(currency, 2)
    major, rest = divmod(minor, 10**digits)
    return f"{major:,}.{rest:0{digits}d} {currency}" if digits else f"{major:,} {currency}"


def parse_price(text: str, currency: str, *, what: str = "the price") -> int:
    """``1,250.50`` in EUR as 125050 (minor units); InvalidInput naming ``what`` for more decimals than the
    currency has, or for anything but a number."""
    digits = CURRENCIES.get(currency, 2)
    major, _, minor = text.strip().replace(",", "").partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()) or len(minor) > digits:
        places = f"at most {digits} decimals" if digits else "no decimals"
        raise InvalidInput(f"{what} must be a number with {places} in {currency}, such as 1250")
    scale: int = 10**digits
    return int(major) * scale + int(minor.ljust(digits, "0") or "0")


def decimal_text(amount: int, digits: int, *, grouped: bool = False) -> str:
    """``amount`` minor units as a decimal text of major units (``123450`` with 2 digits: ``1234.50``, or
    ``1,234.50`` grouped); ``parse_price`` reads either back."""
    whole, part = divmod(abs(amount), 10**digits)
    head = f"{'-' if amount < 0 else ''}{whole:,}" if grouped else f"{'-' if amount < 0 else ''}{whole}"
    return f"{head}.{part:0{digits}d}" if digits else head


def amount_text(amount: int, currency: str) -> str:
    """``amount`` minor units of ``currency`` as people read it: ``1,234.50 EUR``."""
    return f"{decimal_text(amount, CURRENCIES.get(currency, 2), grouped=True)} {currency}".strip()


def amount_field(amount: int, currency: str) -> str:
    """``amount`` minor units of ``currency`` as a form's field holds it for ``parse_price``: ``1234.50``."""
    return decimal_text(amount, CURRENCIES.get(currency, 2))


def _choice(value: object, allowed: Mapping[str, str], name: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}")
    return value


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a whole number from {low:,} to {high:,}")
    return value


def _text(value: object, name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise InvalidInput(f"{name} must be {'non-empty ' if required else ''}text of at most {limit:,} characters")
    return value.strip()


@dataclass(frozen=True)
class RecipeChoice:
    """The recipe a sale would run: its name, version, and privacy parameters (epsilon, k, period...)."""

    name: str
    version: int
    parameters: dict[str, int | float | str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: object) -> RecipeChoice:
        if not isinstance(raw, Mapping):
            raise InvalidInput("recipe must name a recipe, its version and its parameters")
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidInput("recipe.name must be a recipe's name (lowercase letters, digits and dashes)")
        version = _whole(raw.get("version", 1), "recipe.version", 1, 10_000)
        params = raw.get("parameters", {})
        if not isinstance(params, Mapping) or len(params) > 32:
            raise InvalidInput("recipe.parameters must be at most 32 named values")
        checked: dict[str, int | float | str] = {}
        for key, value in params.items():
            if not isinstance(key, str) or not _NAME.match(key.replace("_", "-")):
                raise InvalidInput("recipe.parameters must be named with lowercase letters, digits and underscores")
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InvalidInput(f"recipe.parameters.{key} must be a number or a short text")
            if isinstance(value, float) and value != value:
                raise InvalidInput(f"recipe.parameters.{key} must be a number")
            if isinstance(value, str) and len(value) > 200:
                raise InvalidInput(f"recipe.parameters.{key} must be at most 200 characters")
            checked[key] = value
        return cls(name, version, checked)


@dataclass(frozen=True)
class SaleTerms:
    """A data sale or licence: to whom, for how much, what for, on which licence terms, delivered how."""

    buyer_id: str
    price_minor: int
    currency: str
    purpose: str
    purpose_category: str
    data_kind: str
    duration_days: int
    delivery: str
    recipe: RecipeChoice
    # The licence's fixed clauses: every sale carries them, and they are shown to members as part of the terms.
    no_reidentification: bool = True
    no_resale: bool = True
    delete_at_end: bool = True
    version: int = TERMS_VERSION

    @property
    def price_text(self) -> str:
        return price_text(self.price_minor, self.currency)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "sale", **asdict(self)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], *, buyer_id: str | None = None) -> SaleTerms:
        currency = raw.get("currency")
        if not isinstance(currency, str) or currency not in CURRENCIES:
            raise InvalidInput(f"currency must be an ISO 4217 code the cooperative accepts: {', '.join(CURRENCIES)}")
        for clause in ("no_reidentification", "no_resale", "delete_at_end"):
            if raw.get(clause, True) is not True:
                raise InvalidInput(f"{clause} is part of every licence the cooperative grants")
        buyer = buyer_id if buyer_id is not None else raw.get("buyer_id")
        if not isinstance(buyer, str):
            raise InvalidInput("buyer_id must name the buyer")
        return cls(
            buyer_id=buyer,
            price_minor=_whole(raw.get("price_minor"), "price_minor", 0, MAX_PRICE_MINOR),
            currency=currency,
            purpose=_text(raw.get("purpose"), "purpose"),
            purpose_category=_choice(raw.get("purpose_category"), PURPOSES, "purpose_category"),
            data_kind=_choice(raw.get("data_kind"), DATA_KINDS, "data_kind"),
            duration_days=_whole(raw.get("duration_days"), "duration_days", 1, 3660),
            delivery=_choice(raw.get("delivery"), DELIVERIES, "delivery"),
            recipe=RecipeChoice.from_json(raw.get("recipe")),
            version=_whole(raw.get("version", TERMS_VERSION), "version", TERMS_VERSION, TERMS_VERSION),
        )


@dataclass(frozen=True)
class PolicyChange:
    """A change of the cooperative's policy: only the fields given change (``policy.Policy`` has them all)."""

    fee_basis_points: int | None = None
    capacity_per_day: int | None = None
    quorum_percent: int | None = None
    threshold: str | None = None
    voting_days: int | None = None
    weighting: str | None = None
    scoring_weights: dict[str, int] | None = None
    standing_rules: str | None = None
    share_basis: str | None = None
    payout_minimum_minor: int | None = None
    version: int = TERMS_VERSION

    def changes(self) -> dict[str, Any]:
        """The fields this change sets."""
        return {k: v for k, v in asdict(self).items() if v is not None and k != "version"}

    def to_json(self) -> dict[str, Any]:
        return {"kind": "policy", **asdict(self)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PolicyChange:
        def maybe(name: str, low: int, high: int) -> int | None:
            value = raw.get(name)
            return None if value is None else _whole(value, name, low, high)

        weights = raw.get("scoring_weights")
        if weights is not None:
            if not isinstance(weights, Mapping) or not weights:
                raise InvalidInput(f"scoring_weights must give a percentage for some of: {', '.join(scoring.PARTS)}")
            weights = scoring.check_weights(weights)
        rules, basis = raw.get("standing_rules"), raw.get("share_basis")
        change = cls(
            fee_basis_points=maybe("fee_basis_points", 0, 10_000),
            capacity_per_day=maybe("capacity_per_day", 0, 1_000_000),
            quorum_percent=maybe("quorum_percent", 1, 100),
            threshold=None if raw.get("threshold") is None else _choice(raw["threshold"], THRESHOLDS, "threshold"),
            voting_days=maybe("voting_days", 1, 60),
            weighting=None if raw.get("weighting") is None else _choice(raw["weighting"], WEIGHTINGS, "weighting"),
            scoring_weights=weights,
            standing_rules=None if rules is None else _text(rules, "standing_rules", limit=20_000),
            share_basis=None if basis is None else _choice(basis, SHARE_BASES, "share_basis"),
            payout_minimum_minor=maybe("payout_minimum_minor", 0, MAX_PRICE_MINOR),
            version=_whole(raw.get("version", TERMS_VERSION), "version", TERMS_VERSION, TERMS_VERSION),
        )
        if not change.changes():
            raise InvalidInput("a policy change must change at least one thing")
        return change


def terms_from(raw: Mapping[str, Any]) -> SaleTerms | PolicyChange:
    """The typed terms of a stored proposal."""
    body = {k: v for k, v in raw.items() if k != "kind"}
    return SaleTerms.from_json(body) if raw.get("kind") == "sale" else PolicyChange.from_json(body)

"""The protections a release is built with: pseudonyms that no two releases share, a floor of k members behind
every published cell, differential privacy for aggregates, and the privacy budget of a sale.

- **Pseudonyms** (``release_pseudonym``): ``HMAC-SHA256(release key, b"tutti release pseudonym v1\\0" +
  pool pseudonym)``, the first 128 bits in hex. The release key is drawn for one release to one buyer and never
  leaves the cooperative, so the same member has unrelated pseudonyms in two releases and nobody can join them.
- **k floor** (``k_floor``): a cell (a row of an aggregate, an artist in a preference list) is published only if
  at least ``k`` distinct members stand behind it. It is a floor against the obvious (a cell of one listener), not
  a protection against overlapping or repeated queries: differential privacy is.
- **Differential privacy** (``dp_counts``, ``dp_sums``): the engine first *bounds* each member's contribution
  (``tutti.coop.sales.bounding``: at most ``max_cells`` cells per member, at most ``max_per_cell`` plays in each),
  which is what makes the sensitivities below true; OpenDP then adds Laplace noise calibrated to them and, for
  groups whose existence is itself private (which artists anyone played), selects which groups may be published
  by a noisy threshold (OpenDP's ``make_laplace_threshold``, approximate DP: ``delta`` bounds the chance that a
  group only one member's plays could create is published). Noise comes from OpenDP's cryptographic sampler,
  which cannot be seeded: the engines agree exactly on the bounded tables noise is added to.
- **Budget** (``PrivacyBudget``): a sale's total (epsilon, delta); every release or answered query spends from it
  by basic sequential composition (epsilons add, deltas add), and a cost that does not fit is refused.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tutti.coop.errors import Conflict, InvalidInput

PSEUDONYM_BITS = 128
_PSEUDONYM_CONTEXT = b"tutti release pseudonym v1\x00"
MAX_EPSILON = 10.0  # beyond this, noise no longer protects anyone; a recipe asking for more is refused
MAX_DELTA = 1e-5


class BudgetSpent(Conflict):
    """A release or a query would spend more privacy than is left in its sale's budget."""


def release_pseudonym(release_key: bytes, member: str) -> str:
    """The member's pseudonym in one release: 128 bits of an HMAC under that release's key, in hex."""
    if len(release_key) < 32:
        raise InvalidInput("a release key has at least 256 bits")
    digest = hmac.new(release_key, _PSEUDONYM_CONTEXT + member.encode("utf-8"), hashlib.sha256).digest()
    return digest[: PSEUDONYM_BITS // 8].hex()


def pseudonymised(table: pa.Table, release_key: bytes, column: str = "member") -> pa.Table:
    """``table`` with ``column`` (pool pseudonyms) replaced by the release's pseudonyms, under the same name."""
    members = table.column(column).to_pylist()
    mapping = {m: release_pseudonym(release_key, m) for m in set(members)}
    position = table.schema.get_field_index(column)
    return table.set_column(position, column, pa.array([mapping[m] for m in members], pa.string()))


def k_floor(table: pa.Table, k: int, members_column: str = "members") -> pa.Table:
    """The rows of ``table`` with at least ``k`` distinct members behind them (``members_column``)."""
    if k < 1:
        raise InvalidInput("the k floor is at least 1")
    return table.filter(pc.greater_equal(table.column(members_column), k))


@dataclass(frozen=True)
class Sensitivity:
    """How much one member can move a table of bounded counts: cells touched (l0) and plays per cell (linf)."""

    max_cells: int
    max_per_cell: int

    def __post_init__(self) -> None:
        if self.max_cells < 1 or self.max_per_cell < 1:
            raise InvalidInput("contribution bounds are at least 1")

    @property
    def l1(self) -> int:
        return self.max_cells * self.max_per_cell


def _opendp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def check_privacy(epsilon: float, delta: float) -> None:
    """Refuse an epsilon or delta that protects nobody."""
    if not (0 < epsilon <= MAX_EPSILON) or math.isnan(epsilon):
        raise InvalidInput(f"epsilon must be above 0 and at most {MAX_EPSILON:g}")
    if not (0 <= delta <= MAX_DELTA):
        raise InvalidInput(f"delta must be between 0 and {MAX_DELTA:g}")


@dataclass(frozen=True)
class ThresholdedCounts:
    """Noisy counts of the groups that passed the noisy threshold (group index -> count), and how they were made."""

    counts: dict[int, int]
    scale: float
    threshold: int
    epsilon: float
    delta: float


def dp_counts(counts: Sequence[int], sensitivity: Sensitivity, *, epsilon: float, delta: float) -> ThresholdedCounts:
    """Laplace noise on bounded per-group counts, and only the groups whose noisy count clears a threshold chosen
    so that a group one member alone could create is published with probability at most ``delta``.

    ``counts[i]`` is group i's count after bounding; the result is keyed by the same i.
    """
    check_privacy(epsilon, delta)
    if delta <= 0:
        raise InvalidInput("choosing which groups to publish needs a delta above 0")
    scale = sensitivity.l1 / epsilon
    threshold = _threshold(sensitivity, scale, delta)
    chosen = _threshold_measurement(scale, threshold)
    spent_epsilon, spent_delta = chosen.map(_d_in(sensitivity))
    released = chosen({i: int(c) for i, c in enumerate(counts) if c > 0})
    return ThresholdedCounts(dict(released), scale, threshold, float(spent_epsilon), float(spent_delta))


def _d_in(sensitivity: Sensitivity) -> tuple[int, int, int]:
    return (sensitivity.max_cells, sensitivity.l1, sensitivity.max_per_cell)


def _threshold_measurement(scale: float, threshold: int) -> Any:
    dp = _opendp()
    domain = dp.map_domain(dp.atom_domain(T=int), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_laplace_threshold(domain, metric, scale=scale, threshold=threshold)


@functools.lru_cache(maxsize=256)
def _threshold(sensitivity: Sensitivity, scale: float, delta: float) -> int:
    """The smallest threshold whose delta fits (OpenDP's own privacy map, searched)."""
    d_in = _d_in(sensitivity)

    def fits(threshold: int) -> bool:
        return bool(_threshold_measurement(scale, threshold).map(d_in)[1] <= delta)

    low = high = sensitivity.max_per_cell
    while not fits(high):
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    return high


def dp_sums(values: Sequence[float], l1_sensitivity: float, *, epsilon: float) -> list[float]:
    """Laplace noise on a vector of bounded sums whose keys are already public (fixed cells, or cells a noisy
    threshold released); ``l1_sensitivity`` is the most one member can move the vector in total."""
    check_privacy(epsilon, 0.0)
    if not values:
        return []
    dp = _opendp()
    space = (
        dp.vector_domain(dp.atom_domain(T=float, nan=False)),
        dp.l1_distance(T=float),
    )
    noise = dp.m.make_laplace(*space, scale=float(l1_sensitivity) / epsilon)
    return [float(v) for v in noise([float(v) for v in values])]


@dataclass(frozen=True)
class Spend:
    """Privacy spent by one release or query."""

    epsilon: float
    delta: float
    what: str


@dataclass
class PrivacyBudget:
    """A sale's privacy budget and what has been spent from it (basic sequential composition)."""

    epsilon: float
    delta: float
    spends: list[Spend] = field(default_factory=list)

    @property
    def spent_epsilon(self) -> float:
        return math.fsum(s.epsilon for s in self.spends)

    @property
    def spent_delta(self) -> float:
        return math.fsum(s.delta for s in self.spends)

    def charge(self, spend: Spend) -> None:
        """Record ``spend``, or raise BudgetSpent (and record nothing) if it does not fit what is left."""
        tolerance = 1e-12  # float sums of the same costs must not refuse the last exact fit
        if self.spent_epsilon + spend.epsilon > self.epsilon + tolerance:
            raise BudgetSpent(
                f"this sale's privacy budget is spent: {self.spent_epsilon:g} of epsilon {self.epsilon:g} used, "
                f"{spend.what} needs {spend.epsilon:g}"
            )
        if self.spent_delta + spend.delta > self.delta + tolerance * self.delta:
            raise BudgetSpent(f"this sale's delta budget is spent: {spend.what} needs {spend.delta:g} more")
        self.spends.append(spend)

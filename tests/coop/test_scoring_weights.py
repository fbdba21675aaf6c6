"""The members' scoring weights: a passed policy change weighs the parts of the next contributions' points, the
way the module docstring of ``contributions.scoring`` says, and nothing else can set them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import samples_path
from tests.coop.conftest import NOW, CoopDb, give, join
from tests.helpers.governance import pass_policy, steward
from tests.helpers.scoring import NOTHING, plays, points
from tutti.coop.contributions import scoring
from tutti.coop.contributions.scoring import DIMINISHING, Score, ScoreItem, earned
from tutti.coop.errors import InvalidInput
from tutti.coop.governance import policy, proposals
from tutti.coop.models import Contribution

PART_POINTS = st.fixed_dictionaries({part: st.integers(0, 10**6) for part in scoring.PARTS})
WEIGHTS = st.dictionaries(st.sampled_from(scoring.PARTS), st.integers(0, scoring.MAX_WEIGHT))


@given(PART_POINTS, WEIGHTS, st.integers(0, 10**6))
def test_each_part_is_its_points_times_its_weight_rounded_down(
    parts: dict[str, int], weights: dict[str, int], prior: int
) -> None:
    score = Score(tuple(ScoreItem(name, value, f"{name} as found") for name, value in parts.items()))
    scored = scoring.with_returns(scoring.Scored(NOTHING, score), prior, weights)
    got = {item.name: item for item in scored.score.items}
    for name, value in parts.items():
        weight = weights.get(name, 100)
        assert got[name].points == value * weight // 100
        assert (f"weighted {weight} %" in got[name].explanation) == (weight != 100)
    raw = sum(got[name].points for name in parts)
    assert scored.score.raw == raw
    assert scored.score.total == earned(prior + raw) - earned(prior)
    assert got[DIMINISHING].points == scored.score.total - raw


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"volumes": 100}, "not for volumes"),
        ({"volume": -1}, "from 0 to 1000"),
        ({"span": 1001}, "from 0 to 1000"),
        ({"span": True}, "whole percentage"),
        ({"span": 1.5}, "whole percentage"),
        ({}, "some of: volume, span, diversity, richness"),
        ([("volume", 1)], "some of"),
    ],
)
def test_a_proposal_with_weights_that_mean_nothing_is_refused_naming_them(
    founded_db: CoopDb, weights: object, message: str
) -> None:
    with founded_db.sessions() as session, pytest.raises(InvalidInput, match=message):
        proposals.draft_policy(session, steward(session), "Odd weights", {"scoring_weights": weights})


@pytest.mark.samples
def test_a_passed_change_weighs_the_next_contribution_and_leaves_earned_points_alone(founded_db: CoopDb) -> None:
    before = join(founded_db, "early@example.org")
    early = give(founded_db, before, [samples_path("spotify-account", "fedecalendino-2020-11")])
    assert early.accepted and early.points > 0
    changed = {"volume": 0, "span": 250, "richness": 50}
    pass_policy(founded_db.sessions, {"scoring_weights": changed}, in_force=NOW)
    with founded_db.sessions() as session:
        assert policy.current(session).scoring_weights == changed
    after = join(founded_db, "late@example.org")
    late = give(founded_db, after, [samples_path("spotify-extended", "mica-92")])
    assert late.accepted and late.score is not None
    # Recomputed from the raw export, then weighed by hand: the diversity part, not named, is as it was.
    unweighted = points(scoring.score(plays("spotify-extended", "mica-92"), NOTHING))
    weighed = {name: value * changed.get(name, 100) // 100 for name, value in unweighted.items()}
    got = {item.name: item for item in late.score.items if item.name != DIMINISHING}
    assert {name: item.points for name, item in got.items()} == weighed
    assert weighed["volume"] == 0 < unweighted["volume"] and weighed["span"] > unweighted["span"]
    assert "weighted 250 %" in got["span"].explanation and "weighted" not in got["diversity"].explanation
    assert late.points == earned(sum(weighed.values()))
    with founded_db.sessions() as session:  # what was decided under the earlier weights stands
        stored = session.scalars(select(Contribution.score).where(Contribution.member_id == before)).all()
        assert stored == [early.points]

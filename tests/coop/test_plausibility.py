"""Plausibility: every real export passes; fabricated histories fail the checks that describe them and score low.

The fabrications (tests/helpers/fabrications.py): the collective's "150 plays of one top track" padding (a
checked-in fixture), a real export doctored with an impossible second play 10 s into every play, uniformly random
times and durations, and (built here) a scrobble file doctored the same way.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import samples_path
from tests.helpers.fabrications import (
    PADDING,
    doctored_overlaps,
    mica_records,
    synthetic_records,
    uniform_random,
    write_records,
)
from tutti.coop.contributions import plausibility
from tutti.coop.contributions.plausibility import ACCEPT_SCORE, CALIBRATED, CRITICAL_CAP, RULES, Plausibility
from tutti.coop.contributions.reading import read_upload

REAL_SAMPLES = [
    "apple-music/vietvudanh",
    "lastfm/aleex-cs",
    "lastfm/florianruby",
    "lastfm/mbartoli",
    "lastfm/pingw33n",
    "spotify-account/alanindra",
    "spotify-account/fedecalendino-2020-11",
    "spotify-account/fedecalendino-2021-01",
    "spotify-account/hobbies-w-erin",
    "spotify-account/romainleclair",
    "spotify-extended/alanindra",
    "spotify-extended/candidlyred",
    "spotify-extended/efrrowini",
    "spotify-extended/mica-92",
    "youtube-music/tunaerol",
]


def judge(*paths: Path) -> Plausibility:
    upload = read_upload(list(paths), now=datetime(2026, 6, 1, tzinfo=UTC))
    assert upload.error is None
    return plausibility.check(upload.table, implausible_records=upload.implausible)


def failed(result: Plausibility) -> set[str]:
    return {c.name for c in result.checks if c.applicable and not c.passed}


@pytest.mark.samples
@pytest.mark.parametrize("sample", REAL_SAMPLES)
def test_every_real_export_passes_every_check(sample: str) -> None:
    result = judge(samples_path(*sample.split("/")))
    assert failed(result) == set(), result.reasons
    assert result.score == 100 and result.passed


@pytest.mark.samples
def test_the_samples_listed_are_all_the_samples_with_plays() -> None:
    folders = {f"{p.parent.name}/{p.name}" for p in samples_path().glob("*/*") if p.is_dir()}
    # youtube-music/case104 holds no YouTube Music plays (only videos), so there is nothing to judge.
    assert folders - set(REAL_SAMPLES) == {"youtube-music/case104"}


def test_padding_of_one_track_fails_and_scores_low() -> None:
    result = judge(PADDING)
    assert {"top_track_share", "repeated_duration", "regular_spacing"} <= failed(result)
    assert not result.passed and result.score < 30
    top = next(c for c in result.checks if c.name == "top_track_share")
    assert top.value == 1.0 and top.threshold == CALIBRATED  # the limit is never printed
    assert "100.0% of 150 plays" in top.reason and "0.25" not in top.reason


@pytest.mark.samples
def test_real_export_with_impossible_overlapping_plays_is_rejected(tmp_path: Path) -> None:
    result = judge(
        write_records(tmp_path / "doctored", "Streaming_History_Audio_2024_4.json", doctored_overlaps(mica_records()))
    )
    assert {"overfull_hours", "overlapping_playback"} <= failed(result)
    assert not result.passed and result.score <= CRITICAL_CAP
    overlap = next(c for c in result.checks if c.name == "overlapping_playback")
    assert overlap.critical and overlap.value is not None and overlap.value > 0.4


def test_synthetic_export_with_overlapping_plays_is_rejected(tmp_path: Path) -> None:
    honest = judge(write_records(tmp_path / "honest", "Streaming_History_Audio_2020.json", synthetic_records()))
    doctored = judge(
        write_records(
            tmp_path / "doctored", "Streaming_History_Audio_2020.json", doctored_overlaps(synthetic_records())
        )
    )
    assert "overfull_hours" not in failed(honest)
    assert "overfull_hours" in failed(doctored) and not doctored.passed


@pytest.mark.samples
def test_uniformly_random_times_and_lengths_fail_and_score_low(tmp_path: Path) -> None:
    result = judge(
        write_records(tmp_path / "random", "Streaming_History_Audio_2023.json", uniform_random(mica_records()))
    )
    assert {"duration_shape", "daily_rhythm", "session_continuity"} <= failed(result)
    assert not result.passed and result.score < 30


@pytest.mark.samples
def test_scrobbles_doubled_ten_seconds_apart_are_rejected(tmp_path: Path) -> None:
    with samples_path("lastfm", "mbartoli", "exported_tracks.txt").open(encoding="utf-8") as source:
        rows = list(csv.reader(source, delimiter="\t"))
    rng = random.Random(3)
    doubled = []
    for row in rows:
        other = rng.choice(rows)
        doubled += [row, [str(int(row[0]) + 10), other[1], other[2], *row[3:]]]
    folder = tmp_path / "lastfm"
    folder.mkdir()
    with (folder / "exported_tracks.txt").open("w", encoding="utf-8", newline="") as fp:
        csv.writer(fp, delimiter="\t", lineterminator="\n").writerows(doubled)
    result = judge(folder)
    assert "scrobble_spacing" in failed(result) and not result.passed


@pytest.mark.samples
def test_tiny_uploads_are_not_judged_by_checks_that_need_more_plays() -> None:
    result = judge(samples_path("spotify-extended", "efrrowini"))
    not_applicable = {c.name for c in result.checks if not c.applicable}
    assert {"duration_shape", "daily_rhythm", "reason_mix"} <= not_applicable
    assert all("not applicable" in c.reason for c in result.checks if not c.applicable)


def test_future_records_count_as_impossible_values(tmp_path: Path) -> None:
    records = synthetic_records(500)
    for record in records[:50]:
        record["ts"] = "2031-01-01T00:00:00Z"
    result = judge(write_records(tmp_path / "future", "Streaming_History_Audio_2020.json", records))
    assert "impossible_values" in failed(result) and not result.passed


def test_every_check_is_named_with_a_threshold_and_a_penalty() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(rule.penalty > 0 and rule.what for rule in RULES)
    # One failed non-critical check is tolerated; any two are not.
    minor = sorted(rule.penalty for rule in RULES if not rule.critical)
    assert 100 - minor[-1] >= ACCEPT_SCORE and 100 - minor[0] - minor[1] < ACCEPT_SCORE


def test_plays_spread_evenly_over_six_devices_are_an_oddity(tmp_path: Path) -> None:
    # The demo's invented listener uses six devices equally and never sleeps (critical): not accepted.
    result = judge(write_records(tmp_path / "demo", "Streaming_History_Audio_2020.json", synthetic_records()))
    assert failed(result) == {"platform_mix", "daily_rhythm"}
    assert not result.passed and result.score == CRITICAL_CAP

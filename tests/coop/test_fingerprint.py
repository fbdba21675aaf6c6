"""Fingerprints: MinHash estimates of Jaccard similarity, unions per member, the best match among members.

How fast an upload is compared with every member is measured by benchmarks/fingerprint.py, not here.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import samples_path
from tests.helpers.fabrications import PADDING
from tutti.coop.contributions import fingerprint as fp
from tutti.coop.contributions.reading import read_upload
from tutti.coop.pool.contract import play_identity


def plays(*parts: str) -> pa.Table:
    return play_identity(read_upload([samples_path(*parts)]).table)


@pytest.mark.samples
def test_a_history_is_identical_to_itself_and_unlike_anothers() -> None:
    mica, pingw = plays("spotify-extended", "mica-92"), plays("lastfm", "pingw33n")
    a, b = fp.fingerprint(mica), fp.fingerprint(pingw)
    assert fp.similarity(a, fp.fingerprint(mica)) == 1.0
    assert fp.similarity(a, b) < 0.05
    assert fp.exact_similarity(mica, pingw) == 0.0


@pytest.mark.samples
def test_the_estimate_is_close_to_the_exact_jaccard_similarity() -> None:
    # Two successive exports of one person: most plays are in both.
    older, newer = plays("spotify-account", "fedecalendino-2020-11"), plays("spotify-account", "fedecalendino-2021-01")
    estimate = fp.similarity(fp.fingerprint(older), fp.fingerprint(newer))
    exact = fp.exact_similarity(older, newer)
    assert 0.7 < exact < 0.9
    assert abs(estimate - exact) < 0.1


def test_the_minimum_of_signatures_is_the_signature_of_the_union() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 2**63, 3000, dtype=np.uint64), rng.integers(0, 2**63, 2000, dtype=np.uint64)
    union = fp.union(np.vstack([fp.signature(a), fp.signature(b)]))
    assert (union == fp.signature(np.concatenate([a, b]))).all()


def test_fingerprints_survive_storage_and_empty_sets_match_nothing() -> None:
    print_ = fp.fingerprint(play_identity(read_upload([PADDING]).table))
    again = fp.Fingerprint.from_bytes(print_.to_bytes())
    assert again.size == print_.size == 150 and (again.signature == print_.signature).all()
    assert len(print_.to_bytes()) == 8 * (fp.PERMUTATIONS + 1)
    empty = fp.signature(np.zeros(0, dtype=np.uint64))
    assert fp.similarity(empty, empty) == 0.0
    with pytest.raises(ValueError):
        fp.Fingerprint.from_bytes(b"\x00" * 16)


def test_rows_of_one_owner_are_merged_and_the_best_match_is_found() -> None:
    rng = np.random.default_rng(9)
    sets = {name: rng.integers(0, 2**63, 500, dtype=np.uint64) for name in ("x", "y")}
    half = sets["y"][:250]
    rows = [
        ("x", fp.Fingerprint(fp.signature(sets["x"]), 500).to_bytes()),
        ("y", fp.Fingerprint(fp.signature(half), 250).to_bytes()),
        ("y", fp.Fingerprint(fp.signature(sets["y"][250:]), 250).to_bytes()),
    ]
    owners, matrix = fp.member_matrix(rows)
    assert owners == ["x", "y"] and matrix.shape == (2, fp.PERMUTATIONS)
    match = fp.best_match(fp.signature(sets["y"]), owners, matrix)
    assert match is not None and match.owner == "y" and match.similarity == 1.0
    assert fp.best_match(fp.signature(sets["y"]), [], matrix[:0]) is None


def test_shingles_ignore_case_accents_invisible_characters_and_decorations() -> None:
    raw = read_upload([PADDING]).table
    track = raw.schema.get_field_index("track")
    decorated = raw.set_column(track, "track", pa.array(["VÉLKARO SUNRI\u200b (feat. Ny) - Remastered 2011"] * 150))
    other = raw.set_column(track, "track", pa.array(["Velkaro Sunrise"] * 150))
    base = fp.shingles(play_identity(raw)).tolist()
    assert base == sorted(set(base)) and len(base) == 150  # ascending, one per play (each in its own minute)
    assert fp.shingles(play_identity(decorated)).tolist() == base
    # The same plays in another order give the same array.
    assert fp.shingles(play_identity(decorated).take(list(reversed(range(150))))).tolist() == base
    assert not set(fp.shingles(play_identity(other)).tolist()) & set(base)

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SAMPLES = ROOT.parent / "shared" / "samples"


def samples_path(*parts: str) -> Path:
    """A path inside ../shared/samples; the test is skipped where that folder is absent (a user's clone)."""
    if not SAMPLES.is_dir():
        pytest.skip("real sample exports (../shared/samples) are not present in this checkout")
    path = SAMPLES.joinpath(*parts)
    assert path.exists(), f"sample missing: {path}"
    return path


@pytest.fixture
def data_dir() -> Path:
    return DATA

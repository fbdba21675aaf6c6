"""JSON bodies are refused before parsing when too large or nested too deep: an answer, never a server error."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tutti.web.middleware import MAX_JSON_BYTES, MAX_JSON_DEPTH, json_depth

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\ab'), inner, max_size=3),
    max_leaves=20,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(JSON)
def test_the_scan_counts_nesting_as_a_parser_would_whatever_the_strings_hold(value: object) -> None:
    assert json_depth(json.dumps(value).encode(), 100) == _depth(value)


def test_deep_bodies_are_refused_with_an_answer(client: TestClient) -> None:
    # Deep enough to exhaust a recursive parser, small enough to pass the size limit: refused for its depth.
    body = "[" * 30_000 + "]" * 30_000
    answer = client.post("/api/signup", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert f"deeper than {MAX_JSON_DEPTH}" in answer.json()["detail"]
    huge = "[" * 200_000 + "]" * 200_000
    answer = client.post("/api/signup", content=huge, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_a_large_json_body_is_refused_and_a_normal_one_passes(client: TestClient) -> None:
    big = json.dumps({"email": "a@b.org", "password": "x" * (MAX_JSON_BYTES + 1)})
    answer = client.post("/api/signup", content=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    fine = client.post("/api/signup", json={"email": "[{deep@example.org", "password": "short"})
    assert fine.status_code == 400 and "deeper" not in fine.text

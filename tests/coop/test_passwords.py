"""The password policy, attacked with what people and scripts really try: blanks, NULs, repeats, keyboard rows,
the email itself and the passwords every breach list starts with; passphrases still pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.coop.conftest import CoopDb
from tutti.coop.errors import InvalidInput
from tutti.coop.members import accounts
from tutti.coop.members.passwords import MAX_PASSWORD, MIN_PASSWORD, check_password

EMAIL = "river.song@example.org"

REFUSED = {
    "ten spaces": " " * 10,
    "ten NULs": "\x00" * 10,
    "NUL inside a passphrase": "good words\x00 behind it",
    "tabs and newlines": "\t\n" * 6,
    "one repeated character": "a" * 40,
    "a repeated pair": "ab" * 10,
    "a keyboard row": "qwertyuiop",
    "a sequence": "1234567890",
    # Only the first 72 characters are estimated: padding a weak start does not make it strong.
    "a repeat padded past the estimate": "x" * 72 + "rhubarb",
    "the email itself": EMAIL,
    "the email's name": "river.song1",
    "a common password": "password123",
    "a common password capitalised": "Password1234",
    "a famous one": "iloveyou12",
    "a common word with a year": "football2024",
}
ACCEPTED = [
    "a long enough passphrase",
    "correct horse battery",
    "kettle umbrella saxophone",
    "Tr0ub4dor&3x-weird",
    "rhubarb kettle umbrella saxophone lighthouse " * 3,
    "ünïcödé pässphräse wörds",
]


@pytest.mark.parametrize("password", REFUSED.values(), ids=REFUSED.keys())
def test_trivial_and_common_passwords_are_refused_with_a_clear_sentence(password: str) -> None:
    with pytest.raises(InvalidInput, match=r"^the password ") as refused:
        check_password(password, email=EMAIL)
    assert password.strip() == "" or password not in str(refused.value)


@pytest.mark.parametrize("password", ACCEPTED)
def test_passphrases_are_accepted(password: str) -> None:
    check_password(password, email=EMAIL)


def test_length_bounds_are_kept() -> None:
    with pytest.raises(InvalidInput, match=f"at least {MIN_PASSWORD}"):
        check_password("Xq9#vT2!", email=EMAIL)
    with pytest.raises(InvalidInput, match=f"at most {MAX_PASSWORD}"):
        check_password("kettle umbrella " * 100, email=EMAIL)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=3), st.integers(4, 60))
def test_anything_repeated_is_refused(unit: str, times: int) -> None:
    candidate = unit * times
    if MIN_PASSWORD <= len(candidate) <= MAX_PASSWORD:
        with pytest.raises(InvalidInput):
            check_password(candidate, email=EMAIL)


def test_signup_refuses_a_weak_password_and_stores_nothing(coop_db: CoopDb) -> None:
    for password in (" " * 10, "\x00" * 10, EMAIL, "password123"):
        with coop_db.sessions() as session, pytest.raises(InvalidInput):
            accounts.signup(session, EMAIL, password)
    with coop_db.sessions.begin() as session:
        accounts.signup(session, EMAIL, "kettle umbrella saxophone")

"""Keys: what BibTeX and biber accept, and the house rule for keys dlg-bib makes."""

from __future__ import annotations

import pytest

from dlg_bib.keys import is_house_key, is_valid_key


@pytest.mark.parametrize(
    "key",
    ["1982A&A...114..278B", "IJCAI01*425", "vaswani2017attention", "stdmodel:glashow", "a'b"],
)
def test_foreign_keys_bibtex_accepts_are_valid(key: str) -> None:
    assert is_valid_key(key)


@pytest.mark.parametrize(
    "key", ["", "Ref 1", "a,b", "a{b", "a}b", 'a"b', "a#b", "a%b", "a\\b", "a\tb"]
)
def test_keys_bibtex_or_biber_reject_are_invalid(key: str) -> None:
    assert not is_valid_key(key)


def test_house_keys_are_a_narrower_alphabet() -> None:
    assert is_house_key("vaswani2017attention")
    assert not is_house_key("1982A&A...114..278B")
    assert not is_house_key("IJCAI01*425")

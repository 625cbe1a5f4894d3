"""Keys: what BibTeX and biber accept, and the house rule for keys dlg-bib makes."""

from __future__ import annotations

import pytest

from dlg_bib.bibtex.syntax import is_valid_key
from dlg_bib.library.database import open_database
from dlg_bib.library.keys import is_house_key, key_listing
from tests.conftest import FIXTURES


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


def test_key_listing_gives_labels_aliases_and_plain_text_titles() -> None:
    rows = {row.key: row for row in key_listing(open_database(FIXTURES / "process" / "db"))}
    assert list(rows) == ["cybenko1989approximation", "vaswani2017attention", "unknown2021ref5"]
    vaswani = rows["vaswani2017attention"]
    assert (vaswani.legacy, vaswani.aliases) == (["Ref 14"], ["vaswani2017transformer"])
    assert vaswani.title == "Attention Is All You Need"
    assert rows["cybenko1989approximation"].aliases == []
    assert rows["unknown2021ref5"].line == 30

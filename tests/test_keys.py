"""The names an entry can be cited by, as `dlg-bib keys` lists them."""

from __future__ import annotations

from dlg_bib.database import open_database
from dlg_bib.keys import key_listing
from tests.conftest import FIXTURES


def test_key_listing_gives_labels_aliases_and_plain_text_titles() -> None:
    rows = {row.key: row for row in key_listing(open_database(FIXTURES / "process" / "db"))}
    assert list(rows) == ["cybenko1989approximation", "vaswani2017attention", "unknown2021ref5"]
    vaswani = rows["vaswani2017attention"]
    assert (vaswani.legacy, vaswani.aliases) == (["Ref 14"], ["vaswani2017transformer"])
    assert vaswani.title == "Attention Is All You Need"
    assert rows["cybenko1989approximation"].aliases == []
    assert rows["unknown2021ref5"].line == 30

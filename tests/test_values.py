"""Field values as written: braces, quotes, numbers, macros and `#`."""

from __future__ import annotations

import pytest

from dlg_bib.bibtex.values import ValueSyntaxError, resolve

STRINGS = {"jmlr": "Journal of Machine Learning Research"}


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("{Attention {Is} All}", "Attention {Is} All"),
        ('"quoted"', "quoted"),
        ("2017", "2017"),
        ("jmlr", "Journal of Machine Learning Research"),
        ("JMLR", "Journal of Machine Learning Research"),
        ("jul", "July"),
        ("unknown-macro", "unknown-macro"),
        ("jul # { 1}", "July 1"),
        ("jmlr # {, vol. } # 2", "Journal of Machine Learning Research, vol. 2"),
    ],
)
def test_resolve(raw: str, text: str) -> None:
    assert resolve(raw, STRINGS) == text


def test_macro_without_strings_is_a_month_or_itself() -> None:
    assert resolve("dec") == "December"
    assert resolve("jmlr") == "jmlr"


@pytest.mark.parametrize("raw", ["{a} #", "{a", '"a', "# {a}"])
def test_bad_values_raise(raw: str) -> None:
    with pytest.raises(ValueSyntaxError):
        resolve(raw)

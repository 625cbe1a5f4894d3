"""LaTeX to Unicode for rendered fields, and ASCII folding for keys."""

from __future__ import annotations

import pytest

from dlg_bib.text import ascii_fold, latex_to_text


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ("L{\\'a}szl{\\'o} T. K{\\'o}czy", "László T. Kóczy"),
        ("P{\\k{e}}kalska, El{\\.{z}}bieta", "Pękalska, Elżbieta"),
        ("{BERT}: Pre-training", "BERT: Pre-training"),
        ("pages 1--10 \\& more", "pages 1–10 & more"),
        ("See \\href{https://x.org/a}{the {BERT} page}", "See the BERT page"),
        (
            "Typeset in \\LaTeX{} and \\TeX, cited with \\BibTeX",
            "Typeset in LaTeX and TeX, cited with BibTeX",
        ),
        ("plain   text\nwith  spaces", "plain text with spaces"),
    ],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


def test_math_is_kept_or_decoded() -> None:
    assert latex_to_text("$\\ell_1$ norm") == "$\\ell_1$ norm"
    assert latex_to_text("$\\ell_1$ norm", keep_math=False) == "ℓ_1 norm"


def test_ascii_fold() -> None:
    assert ascii_fold("Pękalska Łukasz Gödel Ørsted") == "Pekalska Lukasz Godel Orsted"

"""The fast LaTeX decoder agrees with pylatexenc wherever it accepts a value."""

from __future__ import annotations

import pytest

from dlg_bib.render.latex import fast_latex_to_text
from dlg_bib.text import latex_to_text

CASES = [
    r"P{\k{e}}kalska, El{\.{z}}bieta",
    r"L{\'a}szl{\'o} T. K{\'o}czy",
    r"Sch\"{o}lkopf",
    r"Sch{\"o}lkopf",
    r"Fran\c{c}ois",
    r"{\AA}str{\"o}m and Erd\H{o}s",
    r"Na\"{\i}ve",
    r"\'{\i}",
    r"50\% of {GANs} \& {VAEs}",
    r"\emph{Attention} is \textbf{all} you need",
    r"x -- y --- z ``quoted'' ~nbsp",
    r"\o{} \ss{} {\aa}ker \l",
    r"\v{s}\c c{\'E}cole\`{a}\^o\=a",
    r"$\alpha$-$\beta$ \ldots",
    r"$\ell_1$-regularization",
    r"a $x_1$ b \$5 a \# b \_c",
    r"{BERT}: Pre-training",
    "plain text",
]


@pytest.mark.parametrize("value", CASES)
def test_fast_path_matches_pylatexenc(value: str) -> None:
    fast = fast_latex_to_text(value)
    assert fast is not None, value
    assert fast == latex_to_text(value, keep_math=False)


@pytest.mark.parametrize(
    "value",
    [
        r"$O(n \log n)$ and $\mathbb{R}^d$",
        r"\url{https://x.org/a_b}",
        r"\href{http://a}{b}",
        r"50% comment",
        r"\{braces\}",
        r"\LaTeX",
        r"unbalanced $math",
    ],
)
def test_unknown_latex_falls_back(value: str) -> None:
    assert fast_latex_to_text(value) is None

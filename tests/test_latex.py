"""The one LaTeX <-> Unicode codec: decoding (fast path and pylatexenc agree), encoding,
title protection and sentence case."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from dlg_bib.bibtex import latex
from dlg_bib.bibtex.latex import (
    ascii_fold,
    escape_specials,
    fast_to_text,
    needs_protection,
    parsed_to_text,
    protect_title,
    safe_text,
    sentence_case,
    to_latex,
    to_text,
)
from dlg_bib.bibtex.names import split_names
from dlg_bib.bibtex.store import load_file

REPO = Path(__file__).resolve().parent.parent

# ---- LaTeX -> Unicode -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ("L{\\'a}szl{\\'o} T. K{\\'o}czy", "László T. Kóczy"),
        ("P{\\k{e}}kalska, El{\\.{z}}bieta", "Pękalska, Elżbieta"),
        ("{BERT}: Pre-training", "BERT: Pre-training"),
        ("pages 1--10 \\& more", "pages 1–10 & more"),
        (r"{BERT}: Pre-training -- 50\% \& more", "BERT: Pre-training – 50% & more"),
        ("See \\href{https://x.org/a}{the {BERT} page}", "See the BERT page"),
        (
            "Typeset in \\LaTeX{} and \\TeX, cited with \\BibTeX",
            "Typeset in LaTeX and TeX, cited with BibTeX",
        ),
        ("plain   text\nwith  spaces", "plain text with spaces"),
        (r"$\ell_1$-regularization", "ℓ_1-regularization"),
        # TeX that reads or writes files is shown as written, never interpreted or dropped.
        (r"\input{/etc/passwd}", r"\input{/etc/passwd}"),
        (r"a \write18{rm -rf}", r"a \write18{rm -rf}"),
        ('#import "/etc/passwd"', '#import "/etc/passwd"'),
        ("", ""),
    ],
)
def test_to_text(latex: str, text: str) -> None:
    assert to_text(latex) == text


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\texttt{Liquid} types", "Liquid types"),
        (r"\mbox{refinement} types", "refinement types"),
        (r"\textsf{Coq} proofs", "Coq proofs"),
        (r"\textup{II}", "II"),
        (r"\foo{kept} text", "kept text"),
        (r"\noopsort{a}{Smith}", "aSmith"),
        (r"\emph{Attention} is \textbf{all}", "Attention is all"),
        # The case: every argument of the sentence survives, not "types, and."
        (
            r"Liquid \texttt{Haskell}: refinement types, and \mbox{\textsf{SMT}} \textup{solvers}.",
            "Liquid Haskell: refinement types, and SMT solvers.",
        ),
        # Unknown macros in a value the fast path declines (math, \url) keep them too.
        (r"\texttt{x} and $\mathbb{R}^d$", "x and ℝ^d"),
        (r"\textsc{Bert} \unknownmacro{arg} \url{https://x.org}", "Bert arg <https://x.org>"),
    ],
)
def test_unknown_macros_keep_their_arguments(latex: str, text: str) -> None:
    assert to_text(latex) == text
    assert parsed_to_text(latex) == text  # pylatexenc as configured, not just the fast path


def test_math_is_kept_or_decoded() -> None:
    assert to_text("$\\ell_1$ norm", keep_math=True) == "$\\ell_1$ norm"
    assert to_text("$\\ell_1$ norm") == "ℓ_1 norm"
    assert to_text("{\\'E}t{\\'e} $x_1$", keep_math=True) == "Été $x_1$"
    # Without math, both options decode alike.
    assert to_text("{\\'E}t{\\'e}", keep_math=True) == to_text("{\\'E}t{\\'e}") == "Été"


@pytest.mark.parametrize(
    "text",
    ["Pękalska, Elżbieta", "László Györfi", "Łukasz Kaiser", "Schölkopf", "Ørsted",
     "Encoder–Decoder — “quoted”", "Straße", "Æsir œuvre", "François Čech", "naïve"],
)  # fmt: skip
def test_accents_and_ligatures_round_trip(text: str) -> None:
    encoded = to_latex(text)
    assert encoded.isascii()
    assert to_text(encoded) == text


# Values whose outcome does not depend on LaTeX being there: plain text and escapes.
PLAIN_CASES = [
    "Plain title", "pp. 12--21 --- a range", "50% off", "``quoted''", "it's",
    "e\u0301t\u00e9", "  spaces\n inside ", "{Braced}",
]  # fmt: skip


@pytest.mark.parametrize("value", PLAIN_CASES)
def test_plain_values_decode_as_the_latex_path_does(value: str) -> None:
    """`to_text` skips the LaTeX decoders for values without LaTeX, with the same result."""
    fast = fast_to_text(value)
    assert to_text(value) == (fast if fast is not None else parsed_to_text(value))


FAST_CASES = [
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
    r"\texttt{x} \mbox{y} \textsf{z} \textup{w}",
    r"x -- y --- z ``quoted'' ~nbsp",
    r"\o{} \ss{} {\aa}ker \l",
    r"\v{s}\c c{\'E}cole\`{a}\^o\=a",
    r"$\alpha$-$\beta$ \ldots",
    r"$\ell_1$-regularization",
    r"a $x_1$ b \$5 a \# b \_c",
    r"{BERT}: Pre-training",
    "plain text",
]


@pytest.mark.parametrize("value", FAST_CASES)
def test_fast_path_matches_pylatexenc(value: str) -> None:
    fast = fast_to_text(value)
    assert fast is not None, value
    assert fast == parsed_to_text(value)


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
        r"\unknownmacro{x}",
    ],
)
def test_unknown_latex_falls_back(value: str) -> None:
    assert fast_to_text(value) is None


@cache
def _shipped_values() -> list[str]:
    """Every title, venue and name written in the test fixtures and the shipped bib/."""
    found: list[str] = []
    for bib in sorted(
        [*(REPO / "tests" / "fixtures").rglob("*.bib"), *(REPO / "bib").glob("*.bib")]
    ):
        try:
            entries = load_file(bib).entries
        except Exception:  # a fixture that is meant to be unreadable
            continue
        for entry in entries:
            for name in ("title", "booktitle", "journal", "author", "editor"):
                try:
                    value = entry.get(name)
                except Exception:  # a malformed value, kept for the lint tests
                    continue
                if name in ("author", "editor"):
                    found.extend(split_names(value))
                elif value:
                    found.append(value)
    return sorted(set(found))


def test_the_fast_path_agrees_with_pylatexenc_on_every_shipped_value() -> None:
    """Property: wherever the fast path answers, pylatexenc (as configured) answers the
    same, on every title and name of tests/fixtures and bib/; the cached `to_text` gives
    that answer too."""
    values = _shipped_values()
    latex_values = [v for v in values if "\\" in v or "{" in v or "$" in v]
    assert len(latex_values) > 50  # the sample really holds LaTeX
    fast_answers = 0
    for value in values:
        fast = fast_to_text(value)
        if fast is not None:
            fast_answers += 1
            assert fast == parsed_to_text(value), value
            assert to_text(value) == fast, value
    assert fast_answers > len(values) // 2  # the fast path is the common case


def test_ascii_fold() -> None:
    assert ascii_fold("Pękalska Łukasz Gödel Ørsted") == "Pekalska Lukasz Godel Orsted"


# ---- Unicode -> LaTeX -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("Pękalska, Elżbieta", "P{\\k{e}}kalska, El{\\.z}bieta"),
        ("László Györfi", "L{\\'a}szl{\\'o} Gy{\\\"o}rfi"),
        ("Kaiser, Łukasz", "Kaiser, {\\L}ukasz"),
        ("Encoder–Decoder — “quoted”", "Encoder--Decoder --- ``quoted''"),
        ("plain ASCII {\\'a} stays", "plain ASCII {\\'a} stays"),
    ],
)
def test_unicode_becomes_braced_canonical_latex(text: str, latex: str) -> None:
    assert to_latex(text) == latex
    assert to_latex(text).isascii()


def test_bare_specials_are_escaped_once() -> None:
    assert escape_specials("R&D at 50% for #1") == "R\\&D at 50\\% for \\#1"
    assert escape_specials("R\\&D 50\\%") == "R\\&D 50\\%"
    assert safe_text("Müller & Co") == 'M{\\"u}ller \\& Co'


@pytest.mark.parametrize(
    "word", ["BERT", "ImageNet", "GloVe", "DeepONet", "3D", "Q", "I", "Euclidean", "word2Vec"]
)
def test_words_that_need_protection(word: str) -> None:
    assert needs_protection(word)


@pytest.mark.parametrize("word", ["Attention", "A", "all", "Multi", "Pre", "learning"])
def test_words_that_do_not(word: str) -> None:
    assert not needs_protection(word)


@pytest.mark.parametrize(
    ("title", "protected"),
    [
        ("BERT: Pre-training of Deep Transformers", "{BERT}: Pre-training of Deep Transformers"),
        ("GloVe: Global Vectors", "{GloVe}: Global Vectors"),
        ("ImageNet Classification (with CNNs)", "{ImageNet} Classification (with {CNNs})"),
        ("Non-Euclidean Q-learning for GPT-2", "Non-{Euclidean} {Q}-learning for {GPT}-2"),
        ('Already {BERT} and {\\"U}ber', 'Already {BERT} and {\\"U}ber'),
        ("Math $\\mathcal{O}(N)$ Stays", "Math $\\mathcal{O}(N)$ Stays"),
        ("{Whole Title Braced BERT}", "{Whole Title Braced BERT}"),
        ("Part I of A Study", "Part {I} of A Study"),
        # Remote titles (enrich, add) get the same rule as exports.
        ("BERT and GloVe on ImageNet, in Paris", "{BERT} and {GloVe} on {ImageNet}, in Paris"),
        ("$O(N)$ Time", "$O(N)$ Time"),
        ("Bayesian Deep Learning", "{Bayesian} Deep Learning"),
    ],
)
def test_protect_title_braces_once(title: str, protected: str) -> None:
    assert protect_title(title) == protected
    assert protect_title(protected) == protected  # idempotent: never double-braced


@pytest.mark.parametrize(
    ("title", "sentence"),
    [
        ("Attention Is All You Need", "Attention is all you need"),
        (
            "BERT: Pre-Training of Deep Bidirectional Transformers",
            "BERT: Pre-training of deep bidirectional transformers",
        ),
        (
            "Multi-Task Learning in Non-{Euclidean} Spaces",
            "Multi-task learning in non-{Euclidean} spaces",
        ),
        (
            "{AlexNet}: The Architecture That Challenged {CNNs}",
            "{AlexNet}: The architecture that challenged {CNNs}",
        ),
        ("Distributions and the {Fourier} Transform", "Distributions and the {Fourier} transform"),
    ],
)
def test_sentence_case_keeps_protected_words(title: str, sentence: str) -> None:
    assert sentence_case(title) == sentence


def test_protect_title_fast_paths_equal_the_one_pass_scan() -> None:
    """Word-by-word and piece-by-piece protection must give what one scan of the whole
    title gives, whatever braces, math and escapes the title holds."""
    import random

    rng = random.Random(20261125)
    alphabet = [
        "BERT",
        "ImageNet",
        "deep",
        "A",
        "{",
        "}",
        "$",
        "\\ell",
        "\\{",
        "\\}",
        "\\$",
        "\\ ",
        "\\'{e}",
        "GPT-2",
        "Non-Euclidean",
        " ",
        " ",
        " ",
        "x",
        "_1",
        "--",
    ]
    samples = ["{BERT}-style", "$\\ell_1$ and \\'{e}t{\\'e}", "a \\{ b } c", "\\ Net"]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(3000)
    ]
    for title in samples:
        one_pass = latex._KEPT_OR_PROTECTED.sub(latex._keep_or_brace, title)
        if title.startswith("{") and title.endswith("}") and latex._one_group(title):
            continue  # a title braced as a whole is returned as is
        assert latex.protect_title(title) == one_pass, title

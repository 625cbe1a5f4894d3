"""LaTeX-safe values: Unicode to braced LaTeX, bare specials, title protection, sentence case."""

from __future__ import annotations

import pytest

from dlg_bib.export import latex
from dlg_bib.export.latex import (
    escape_specials,
    needs_protection,
    protect_title,
    safe_text,
    sentence_case,
    to_latex,
)


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

"""Name lists: top-level `and` only, BibTeX's three name forms, the plain-split fast path."""

from __future__ import annotations

import random

import pytest

from dlg_bib.bibtex.names import _AND, Name, parse_name, parse_names, split_names, split_top_level


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Smith, A. and Nguyen, B.", ["Smith, A.", "Nguyen, B."]),
        ("{Barnes and Noble} and Doe, J.", ["{Barnes and Noble}", "Doe, J."]),
        ("Anderson, C. and Sandberg, D.", ["Anderson, C.", "Sandberg, D."]),
        ("A  AND\tB\nand C", ["A", "B", "C"]),
        ("A and  and B", ["A", "and B"]),
        ("  and B", ["B"]),
        (
            'P{\\k{e}}kalska, E. and Sch{\\"o}lkopf, B.',
            ["P{\\k{e}}kalska, E.", 'Sch{\\"o}lkopf, B.'],
        ),
        ("", []),
    ],
)
def test_split_names(text: str, names: list[str]) -> None:
    assert split_names(text) == names


def test_plain_split_agrees_with_the_regular_expression() -> None:
    rng = random.Random(7)
    pieces = [
        " and ",
        "  and ",
        " AND ",
        "\tand ",
        "and",
        "Anderson",
        "{",
        "}",
        "A",
        ",",
        " ",
        "\n",
    ]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        assert split_names(text) == split_top_level(text, _AND), repr(text)


def test_the_three_name_forms() -> None:
    assert parse_name("Jan van der Berg") == Name(family="Berg", given="Jan", particle="van der")
    assert parse_name("van der Berg, Jan") == Name(family="Berg", given="Jan", particle="van der")
    assert parse_name("Smith, Jr., John") == Name(family="Smith", given="John", suffix="Jr.")
    assert parse_names("{IEEE Standards} and Doe, J.")[0] == Name(literal="IEEE Standards")


def test_degenerate_names_do_not_raise() -> None:
    from dlg_bib.bibtex.names import Name, parse_name, parse_names

    assert parse_name(",") == Name()
    assert parse_name("") == Name()
    assert parse_names("Doe, Jane and ,")[0] == Name(family="Doe", given="Jane")

"""The fast splitter answers None or exactly bibtexparser's blocks, attribute by attribute.

Every .bib the project knows (fixtures, the shipped database, the generated 10k database,
../shared/corpus/ when it is there, with its shapes copied to fixtures/fastsplit/) and
thousands of seeded random well-formed and broken files go through both splitters.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from bibtexparser import model as bpm

from bench.common import generate_bib
from dlg_bib.bibtex import fastsplit, store
from tests.conftest import FIXTURES, REPO

CORPUS = REPO.parent / "shared" / "corpus"
FIXTURE_FILES = sorted(FIXTURES.rglob("*.bib"))
CORPUS_FILES = sorted(CORPUS.glob("*.bib")) if CORPUS.is_dir() else []
# Files the fast path must take: well-formed, with nothing it leaves to bibtexparser.
MUST_TAKE = [
    REPO / "bib" / "references.bib",
    FIXTURES / "fastsplit" / "shapes.bib",
    FIXTURES / "store" / "db" / "references.bib",
    FIXTURES / "store" / "db" / "windows.bib",
    FIXTURES / "export" / "db" / "references.bib",
    *CORPUS_FILES,  # all six are taken today; a new fallback should be a decision
]
# Every attribute the model classes have, so a new one in bibtexparser fails here loudly.
KNOWN_ATTRIBUTES = {
    "_start_line_in_file",
    "_raw",
    "_parser_metadata",
    "_key",
    "_value",
    "_enclosing",
    "_comment",
    "_entry_type",
    "_fields",
    "_start_line",
}


def reference(text: str) -> list[bpm.Block]:
    blocks: list[bpm.Block] = bibtexparser.parse_string(text, parse_stack=[]).blocks
    return blocks


def assert_same(got: Any, expected: Any, where: str = "") -> None:
    """Same class and, recursively, every attribute (fields, metadata included)."""
    assert type(got) is type(expected), where
    if isinstance(expected, list):
        assert len(got) == len(expected), where
        for i, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, (bpm.Block, bpm.Field)):
        assert set(vars(expected)) <= KNOWN_ATTRIBUTES, where
        assert vars(got).keys() == vars(expected).keys(), where
        for name, value in vars(expected).items():
            assert_same(vars(got)[name], value, f"{where}.{name}")
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


def check(text: str) -> bool:
    """Assert the fast splitter is None or equal to bibtexparser; True when it answered."""
    got = fastsplit.split(text)
    if got is None:
        return False
    assert_same(got, reference(text))
    return True


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def test_the_rules_were_proven_against_the_installed_bibtexparser() -> None:
    # A new bibtexparser turns the fast path off (split answers None) until this module's
    # proofs pass against it and PROVEN_WITH is moved on.
    assert bibtexparser.__version__ == fastsplit.PROVEN_WITH


@pytest.mark.parametrize("path", FIXTURE_FILES + CORPUS_FILES, ids=str)
def test_every_known_file_is_split_as_bibtexparser_splits_it(path: Path) -> None:
    check(read(path))


@pytest.mark.parametrize("path", MUST_TAKE, ids=str)
def test_well_formed_files_take_the_fast_path(path: Path) -> None:
    assert check(read(path))


def test_the_generated_database_takes_the_fast_path() -> None:
    text = generate_bib(10_000)
    assert check(text)
    assert check(text.replace("\n", "\r\n"))


def test_files_it_does_not_understand_fall_back() -> None:
    for text in [
        "@article(key, title = {T})\n",  # parentheses
        "@article{key, title = {T}, title = {U}}\n",  # duplicate field
        "@article{k, title = {T}}\n@book{k, title = {U}}\n",  # duplicate key
        "@article{key,\n  % title = {T},\n  year = 2000}\n",  # `%` between fields
        "@article{key, title = {T}\n",  # unterminated
        "@article{key, title = {T{}}\n@book{b, year = 1}\n",  # unbalanced
        "@article{key, title = {T @book{x}}\n",  # a block start inside a value
        '@article{key, title = "a{"}b"}\n',  # bibtexparser's `{"}` escape
        "@article{key, title = {a\\\nb}}\n",  # escaped newline (not counted)
        "@article{key, title = {" + "{" * 12 + "x" + "}" * 12 + "}}\n",  # deeper than _DEPTH
        "@article{key title = {T}}\n",
        "@article{key, title {T}}\n",
        "@article{key, title = {T} year = 2000}\n",
    ]:
        assert fastsplit.split(text) is None, text
        check(text)


# Pieces of the random files: values, blocks and the text between them.
_VALUES = [
    "{plain}",
    "{Nested {Braces {Deep}} here}",
    '{with, comma = and "quote}',
    '"quoted {with} braces"',
    '"quoted, with comma"',
    '"M\\"uller"',
    '"unbalanced { in quotes"',
    "{\\{escaped\\} braces}",
    "{back\\\\slash}",
    "{\\'e}",
    "{50% off}",
    "{mail a@b.org}",
    "{LeQua @ {CLEF}}",
    "2020",
    "jan",
    'jan # " 1"',
    '"10~" # jan',
    "{a} # {b} # mac",
    "{日本語 Ünï}",
    "{}",
    '""',
    "{line\nbreak}",
    "{line\r\nbreak}",
]
_NAMES = ["title", "author", "year", "month", "note", "url", "ids", "mendeley-tags", "date"]
_GAPS = [
    "\n",
    "\n\n",
    "\r\n",
    "",
    " ",
    "\n% a comment line\n",
    '\nfree text, with = signs and "quotes" and mail@example.org\n',
    "\n  \t\n",
    "\n}\n",
    "\n@\n",
]
_BREAKS = ["{", "}", '"', ",", "=", "@", "(", ")", "#", "%", "\\", "\n", "@misc{", '{"}']


def _ws(rng: random.Random) -> str:
    return rng.choice(["", " ", "  ", "\t", "\n  ", "\r\n  ", " \n"])


def _entry(rng: random.Random, key: str) -> str:
    kind = rng.choice(["article", "Book", "INPROCEEDINGS", "web_page", "misc"])
    space = rng.choice(["", " ", "\t"])
    head = f"@{kind}{space}{{{_ws(rng)}{key}{_ws(rng)}"
    names = rng.sample(_NAMES, rng.randint(0, 5))
    if not names:
        return head + rng.choice(["}", ",}", ", \n}"])
    fields = [
        f"{_ws(rng)}{name}{_ws(rng)}={_ws(rng)}{rng.choice(_VALUES)}{_ws(rng)}" for name in names
    ]
    return head + "," + ",".join(fields) + rng.choice(["", ",", ",\n"]) + "}"


def _block(rng: random.Random, i: int) -> str:
    roll = rng.random()
    if roll < 0.1:
        value = rng.choice(["{Journal {of} X}", '"Quoted"', '"a {b} c" # {d}', "other"])
        return f"@{rng.choice(['string', 'STRING', 'String '])}{{{_ws(rng)}m{i} = {value}}}"
    if roll < 0.15:
        return rng.choice(['@preamble{ "\\newcommand{\\x}{y}" # "z" }', "@PREAMBLE{{a}b}"])
    if roll < 0.22:
        return rng.choice(
            [
                "@comment{jabref-meta: databaseType:bibtex;}",
                '@COMMENT{"\\nslk"}',
                "@Comment{ multi\nline {nested} }",
                "@comment{}",
            ]
        )
    return _entry(rng, f"key{i}")


def random_file(rng: random.Random) -> str:
    parts = [rng.choice(_GAPS)]
    for i in range(rng.randint(0, 8)):
        parts += [_block(rng, i), rng.choice(_GAPS)]
    text = "".join(parts)
    return text.replace("\n", "\r\n") if rng.random() < 0.1 else text


def broken(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        if rng.random() < 0.5 and text:
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + rng.choice(_BREAKS) + text[at:]
    return text


def test_random_files_are_split_as_bibtexparser_splits_them() -> None:
    rng = random.Random(13)
    taken = 0
    runs = 3000
    for _ in range(runs):
        text = random_file(rng)
        taken += check(text)
        check(broken(rng, text))
    # The pieces are mostly well-formed: the fast path must answer for most files.
    assert taken > runs // 3


def test_parse_bib_is_the_same_with_and_without_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [read(p) for p in MUST_TAKE] + [generate_bib(2_000)]
    fast = [store.parse_bib(Path("x.bib"), text) for text in texts]
    monkeypatch.setattr(fastsplit, "split", lambda text: None)
    slow = [store.parse_bib(Path("x.bib"), text) for text in texts]
    for a, b in zip(fast, slow, strict=True):
        assert [(x.raw, x.start, x.line, x.entry) for x in a.blocks] == [
            (x.raw, x.start, x.line, x.entry) for x in b.blocks
        ]
        assert_same([x.parsed for x in a.blocks], [x.parsed for x in b.blocks])
        assert a.strings == b.strings
        assert a.entries == b.entries
        assert a.problems == b.problems

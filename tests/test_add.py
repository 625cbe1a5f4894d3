"""`add`: identifiers in every form, complete keyed and tagged entries, duplicates refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result
from responses import matchers

from dlg_bib.add import Identifier, parse_identifier
from dlg_bib.cli import cli
from dlg_bib.errors import UnknownNameError
from dlg_bib.library.database import open_workspace
from tests.sources_support import (
    ARXIV_API,
    ATOM,
    CROSSREF_API,
    CROSSREF_HEADERS,
    arxiv_body,
    copy_enrich_database,
    crossref_body,
    mock_dblp_and_free_copy_sources,
)

EMPTY_SEARCH = json.dumps({"status": "ok", "message-type": "work-list", "message": {"items": []}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1706.03762", Identifier("arxiv", "1706.03762", "1706.03762")),
        ("arXiv:1706.03762v5", Identifier("arxiv", "1706.03762v5", "arXiv:1706.03762v5")),
        ("https://arxiv.org/abs/1706.03762", Identifier("arxiv", "1706.03762", "")),
        ("https://arxiv.org/pdf/1706.03762v7.pdf", Identifier("arxiv", "1706.03762v7", "")),
        ("arxiv.org/abs/math/0211159", Identifier("arxiv", "math/0211159", "")),
        ("math.DG/0211159", Identifier("arxiv", "math/0211159", "")),
        ("10.1145/3457607", Identifier("doi", "10.1145/3457607", "")),
        ("doi:10.1145/3457607", Identifier("doi", "10.1145/3457607", "")),
        ("DOI: 10.1145/3457607", Identifier("doi", "10.1145/3457607", "")),
        (
            "https://doi.org/10.1016/S0893-6080(97)00097-X",
            Identifier("doi", "10.1016/S0893-6080(97)00097-X", ""),
        ),
        ("https://dx.doi.org/10.1109/72.392253", Identifier("doi", "10.1109/72.392253", "")),
        ("10.1007%2FBF02551274", Identifier("doi", "10.1007/BF02551274", "")),
        ("https://dl.acm.org/doi/10.1145/3457607", Identifier("doi", "10.1145/3457607", "")),
        (
            "https://link.springer.com/article/10.1007/BF02551274",
            Identifier("doi", "10.1007/BF02551274", ""),
        ),
        ("info:doi/10.1109/72.392253", Identifier("doi", "10.1109/72.392253", "")),
        ("https://doi.org/10.48550/arXiv.1706.03762", Identifier("arxiv", "1706.03762", "")),
    ],
)
def test_identifiers_in_every_common_form(text: str, expected: Identifier) -> None:
    found = parse_identifier(text)
    assert found is not None
    assert (found.kind, found.value) == (expected.kind, expected.value)


@pytest.mark.parametrize("text", ["", "attention is all you need", "abc", "https://example.org/x"])
def test_non_identifiers_are_refused(text: str) -> None:
    assert parse_identifier(text) is None


# ---- the command -------------------------------------------------------------------------------


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_dblp_and_free_copy_sources(rsps)
        rsps.get(
            ARXIV_API,
            body=arxiv_body("new_1605.08386_single.xml"),
            content_type=ATOM,
            match=[matchers.query_param_matcher({"id_list": "1605.08386"}, strict_match=False)],
        )
        rsps.get(
            ARXIV_API,
            body=arxiv_body("new_1910.03193_deeponet_doi.xml"),
            content_type=ATOM,
            match=[matchers.query_param_matcher({"id_list": "1910.03193"}, strict_match=False)],
        )
        rsps.get(f"{CROSSREF_API}/works", body=EMPTY_SEARCH, content_type="application/json")
        for doi, name in [
            ("10.1007/978-3-0348-8720-5_13", "work_book_chapter.json"),
            ("10.1371/journal.pone.0033693", "work_journal_article_plos.json"),
            ("10.1038/s42256-021-00302-5", "work_10.1038_s42256-021-00302-5.json"),
        ]:
            rsps.get(
                f"{CROSSREF_API}/works/{doi}",
                body=crossref_body(name),
                content_type="application/json",
                headers=CROSSREF_HEADERS,
            )
        rsps.get(
            f"{CROSSREF_API}/works/10.1371/notarealdoi",
            body=crossref_body("works_404_resource_not_found.txt"),
            status=404,
            content_type="text/plain",
        )
        yield rsps


@pytest.fixture
def bib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_enrich_database(tmp_path, monkeypatch)


def run(bib: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--bib", str(bib), "add", *args])


def test_add_arxiv_preprint_with_tags(bib: Path, mocked: responses.RequestsMock) -> None:
    before = (bib / "references.bib").read_text()
    result = run(
        bib,
        "arXiv:1605.08386",
        "--session",
        "2021-11-12",
        "--role",
        "prerequisite",
        "--topic",
        "nlp",
    )
    assert result.exit_code == 0, result.output
    after = (bib / "references.bib").read_text()
    assert after.startswith(before)  # appended; every other byte identical
    entry = open_workspace(bib).db.find("stanley2016heat")
    assert entry is not None and entry.entry_type == "misc"
    assert entry.get("author") == "Stanley, Caprice and Windisch, Tobias"
    assert entry.get("eprint") == "1605.08386" and entry.get("archiveprefix") == "arXiv"
    assert entry.get("oaurl") == "https://arxiv.org/pdf/1605.08386"  # its free copy
    assert (entry.get("oaversion"), entry.get("oahost")) == ("submitted", "arxiv")
    assert entry.topics == ["nlp"]
    assert [(t.date, t.role) for t in entry.sessions] == [("2021-11-12", "prerequisite")]
    assert "% preprint: no match in dblp: dblp has no record of this title" in result.output


def test_add_doi_from_a_publisher_url(bib: Path, mocked: responses.RequestsMock) -> None:
    result = run(bib, "https://link.springer.com/chapter/10.1007/978-3-0348-8720-5_13")
    assert result.exit_code == 0, result.output
    entry = open_workspace(bib).db.find("bouchut1999differentiability")
    assert entry is not None and entry.entry_type == "incollection"
    assert entry.fields["author"] == r"{Bouchut, Fran{\c{c}}ois and James, Fran{\c{c}}ois}"
    assert entry.get("booktitle") == "Hyperbolic Problems: Theory, Numerics, Applications"
    assert entry.get("doi") == "10.1007/978-3-0348-8720-5_13"  # verbatim: no \_
    assert entry.get("pages") == "113--118"


def test_add_arxiv_id_records_the_published_version(
    bib: Path, mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    only = tmp_path / "only"
    only.mkdir()
    (only / "references.bib").write_text("% empty reading list\n")
    result = run(only, "1910.03193")
    assert result.exit_code == 0, result.output
    [entry] = open_workspace(only).db.entries
    assert entry.key == "lu2021learning" and entry.entry_type == "article"
    assert entry.get("journal") == "Nature Machine Intelligence" and entry.get("year") == "2021"
    assert entry.get("eprint") == "1910.03193"
    assert "% published version confirmed via arXiv's doi" in result.output


def test_duplicates_are_reported_with_their_key(bib: Path, mocked: responses.RequestsMock) -> None:
    before = (bib / "references.bib").read_bytes()
    result = run(bib, "https://doi.org/10.1371/JOURNAL.PONE.0033693", "1910.03193")
    assert result.exit_code == 0
    assert "already in the database as sadasivan2012methylphenidate" in result.output
    assert "already in the database as lu2019deeponet" in result.output
    assert (bib / "references.bib").read_bytes() == before
    assert not [c for c in mocked.calls if "/works/10.1371" in c.request.url]  # no lookup


def test_same_paper_twice_in_one_call_is_added_once(
    bib: Path, mocked: responses.RequestsMock
) -> None:
    result = run(bib, "1605.08386", "https://arxiv.org/abs/1605.08386")
    assert result.exit_code == 0
    assert "arXiv:1605.08386: given more than once" in result.output
    assert len([e for e in open_workspace(bib).db.entries if e.key.startswith("stanley")]) == 1


def test_unknown_doi_fails_and_writes_nothing(bib: Path, mocked: responses.RequestsMock) -> None:
    before = (bib / "references.bib").read_bytes()
    result = run(bib, "10.1371/notarealdoi")
    assert result.exit_code == 1
    assert "DOI 10.1371/notarealdoi is not in Crossref" in result.output
    assert (bib / "references.bib").read_bytes() == before


def test_dry_run_prints_but_writes_nothing(bib: Path, mocked: responses.RequestsMock) -> None:
    before = (bib / "references.bib").read_bytes()
    result = run(bib, "--dry-run", "1605.08386")
    assert result.exit_code == 0
    assert "@misc{stanley2016heat," in result.output and "nothing written" in result.output
    assert (bib / "references.bib").read_bytes() == before


def test_bad_identifiers_and_unknown_tags_are_usage_errors(bib: Path) -> None:
    assert run(bib, "not-an-id").exit_code == 2
    unknown = run(bib, "1605.08386", "--session", "1999-01-01")
    assert isinstance(unknown.exception, UnknownNameError)
    assert run(bib, "1605.08386", "--role", "main").exit_code == 2  # --role needs --session

"""openaccess: checking works against the entry and ranking free copies (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dlg_bib.enrich.openaccess import NONE_KNOWN, EntryFacts, choose_free_copy
from dlg_bib.library.model import Entry
from dlg_bib.sources.records import (
    ARXIV,
    PMC,
    PUBLISHER,
    REPOSITORY,
    OaLocation,
    OaWork,
    host_kind,
    version_name,
)


def entry(entry_type: str = "article", **fields: str) -> Entry:
    return Entry("k", entry_type, {name: "{" + value + "}" for name, value in fields.items()})


PAPER = EntryFacts.from_entry(
    entry(
        title="Developing Functional Musculoskeletal Tissues through Hypoxia and Lysyl"
        " Oxidase-Induced Collagen Cross-Linking",
        author="Makris, Eleftherios A. and Responte, Donald J. and Athanasiou, Kyriacos A.",
        year="2014",
        doi="https://doi.org/10.1073/pnas.1414271111",
    )
)
TITLE = (
    "Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced"
    " collagen cross-linking"
)


def loc(url: str, version: str, host: str, pdf: bool = True, **more: str) -> OaLocation:
    return OaLocation(
        url=url,
        landing_url="" if pdf else url,
        pdf_url=url if pdf else "",
        version=version,
        host=host,
        **more,  # type: ignore[arg-type]
    )


def work(*locations: OaLocation, **changes: object) -> OaWork:
    base = OaWork(
        source="openalex",
        doi="10.1073/pnas.1414271111",
        title=TITLE,
        year=2014,
        authors=("Eleftherios A. Makris", "Donald J. Responte", "Kyriacos A. Athanasiou"),
        locations=locations,
    )
    return replace(base, **changes) if changes else base  # type: ignore[arg-type]


PUBLISHED = loc("https://pub.example/paper.pdf", "published", PUBLISHER, license="cc-by")
ACCEPTED_PMC = loc("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1/pdf", "accepted", PMC)
SUBMITTED_REPO = loc("https://repo.example/1.pdf", "submitted", REPOSITORY)
SUBMITTED_PMC = loc("https://europepmc.org/articles/pmc1?pdf=render", "submitted", PMC)


def test_entry_facts_read_doi_from_a_resolver_url_and_the_arxiv_id() -> None:
    assert PAPER.doi == "10.1073/pnas.1414271111"
    assert PAPER.year == 2014 and PAPER.people[0].family == ("makris",)
    facts = EntryFacts.from_entry(entry(title="T", eprint="1706.03762", archiveprefix="arXiv"))
    assert facts.arxiv_id == "1706.03762"


@pytest.mark.parametrize(
    ("locations", "expected"),
    [
        ((SUBMITTED_REPO, ACCEPTED_PMC, PUBLISHED), PUBLISHED),
        ((SUBMITTED_REPO, ACCEPTED_PMC), ACCEPTED_PMC),
        ((SUBMITTED_REPO, SUBMITTED_PMC), SUBMITTED_PMC),
        ((SUBMITTED_REPO,), SUBMITTED_REPO),
    ],
)
def test_publisher_version_then_accepted_then_submitted_pmc_above_repositories(
    locations: tuple[OaLocation, ...], expected: OaLocation
) -> None:
    assert choose_free_copy(PAPER, [work(*locations)]).location == expected


def test_publisher_before_pmc_for_the_same_version_and_pdf_before_landing_page() -> None:
    publisher_landing = loc(
        "https://doi.org/10.1073/pnas.1414271111", "published", PUBLISHER, pdf=False
    )
    pmc_pdf = loc("https://europepmc.org/articles/pmc4234579?pdf=render", "published", PMC)
    assert choose_free_copy(PAPER, [work(pmc_pdf, publisher_landing)]).location == publisher_landing
    publisher_pdf = replace(
        publisher_landing, url="https://pub.example/a.pdf", pdf_url="https://pub.example/a.pdf"
    )
    assert (
        choose_free_copy(PAPER, [work(publisher_landing, publisher_pdf)]).location == publisher_pdf
    )


def test_arxiv_ranks_with_pmc_above_other_repositories() -> None:
    arxiv_entry = replace(PAPER, arxiv_id="1411.00001")
    copy = choose_free_copy(arxiv_entry, [work(SUBMITTED_REPO)])
    assert copy.location is not None and copy.location.host == ARXIV
    assert copy.fields() == {
        "oaurl": "https://arxiv.org/pdf/1411.00001",
        "oaversion": "submitted",
        "oahost": "arxiv",
    }
    assert choose_free_copy(arxiv_entry, [work(ACCEPTED_PMC)]).location == ACCEPTED_PMC


def test_an_arxiv_entry_always_has_its_arxiv_pdf() -> None:
    facts = EntryFacts.from_entry(
        entry(
            "misc",
            title="Attention Is All You Need",
            author="Vaswani, Ashish",
            year="2017",
            eprint="1706.03762",
            archiveprefix="arXiv",
        )
    )
    copy = choose_free_copy(facts, [])
    assert copy.fields()["oaurl"] == "https://arxiv.org/pdf/1706.03762"


def test_free_proceedings_links_of_the_entry_are_the_published_version() -> None:
    facts = EntryFacts.from_entry(
        entry(
            "inproceedings",
            title="{ImageNet} Classification with Deep Convolutional Neural Networks",
            author="Krizhevsky, Alex",
            year="2012",
            url="https://proceedings.neurips.cc/paper/2012/file/c399862d3b9d6b76c8436e924a68c45b-Paper.pdf",
        )
    )
    assert choose_free_copy(facts, []).fields() == {
        "oaurl": "https://proceedings.neurips.cc/paper/2012/file/c399862d3b9d6b76c8436e924a68c45b-Paper.pdf",
        "oaversion": "published",
        "oahost": "publisher",
    }
    paywalled = replace(facts, links=("https://www.sciencedirect.com/science/article/pii/X",))
    assert choose_free_copy(paywalled, []).location is None


def test_nothing_known_gives_the_note() -> None:
    copy = choose_free_copy(PAPER, [work(replace(PUBLISHED, is_oa=False))])
    assert copy.location is None
    assert copy.fields() == {"oanote": NONE_KNOWN}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"doi": "10.65215/2q58a426"}, "work has DOI 10.65215/2q58a426"),
        ({"title": "Something else entirely"}, "different title"),
        ({"year": 2025}, "year 2025, entry 2014"),
        ({"authors": ("Jane Doe", "John Roe")}, "no shared author"),
    ],
)
def test_works_that_do_not_match_the_entry_are_not_used(
    changes: dict[str, object], problem: str
) -> None:
    copy = choose_free_copy(PAPER, [work(PUBLISHED, **changes)])
    assert copy.location is None
    assert len(copy.rejected) == 1 and problem in copy.rejected[0]


def test_a_work_without_title_is_checked_by_doi_year_and_authors() -> None:
    assert choose_free_copy(PAPER, [work(PUBLISHED, title=None)]).location == PUBLISHED


def test_a_subtitle_on_one_side_only_still_matches() -> None:
    longer = TITLE + ": an extended study of engineered cartilage"
    assert choose_free_copy(PAPER, [work(PUBLISHED, title=longer)]).location == PUBLISHED


def test_locations_of_other_works_are_rejected() -> None:
    foreign = loc(
        "https://langtaosha.org.cn/x.pdf",
        "accepted",
        REPOSITORY,
        location_id="doi:10.65215/r5bs2d54",
    )
    foreign_landing = OaLocation(
        url="https://doi.org/10.65215/ysbyhc05",
        landing_url="https://doi.org/10.65215/ysbyhc05",
        version="accepted",
    )
    thesis = loc(
        "https://repositorio.unal.edu.co/handle/unal/81443",
        "submitted",
        REPOSITORY,
        pdf=False,
        raw_type="info:eu-repo/semantics/masterThesis",
    )
    copy = choose_free_copy(PAPER, [work(foreign, foreign_landing, thesis)])
    assert copy.location is None
    assert len(copy.rejected) == 3
    assert "another DOI (10.65215/r5bs2d54)" in copy.rejected[0]
    assert "a thesis" in copy.rejected[2]


def test_the_entrys_own_arxiv_doi_location_is_kept() -> None:
    arxiv_entry = replace(PAPER, arxiv_id="1706.03762")
    own = OaLocation(
        url="https://doi.org/10.48550/arxiv.1706.03762",
        landing_url="https://doi.org/10.48550/arxiv.1706.03762",
        location_id="doi:10.48550/arxiv.1706.03762",
        host=ARXIV,
    )
    assert choose_free_copy(arxiv_entry, [work(own)]).rejected == ()


def test_host_and_version_names() -> None:
    assert host_kind("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1", REPOSITORY) == PMC
    assert host_kind("http://doi.org/10.1/x", REPOSITORY, "PubMed Central") == PMC
    assert host_kind("http://arxiv.org/abs/1706.03762", REPOSITORY) == ARXIV
    assert host_kind("https://pub.example/x", PUBLISHER) == PUBLISHER
    assert host_kind("https://repo.example/x", "journal") == REPOSITORY
    assert version_name("publishedVersion") == "published"
    assert version_name(None) == ""


def test_choice_is_deterministic_between_equal_locations() -> None:
    a = loc("https://a.example/x.pdf", "submitted", REPOSITORY)
    b = loc("https://b.example/x.pdf", "submitted", REPOSITORY)
    first = choose_free_copy(PAPER, [work(a, b)]).location
    assert first == choose_free_copy(PAPER, [work(b, a)]).location


def test_a_web_document_without_doi_is_read_at_its_own_link() -> None:
    blog = EntryFacts.from_entry(
        entry(
            "misc",
            title="The Illustrated Transformer",
            author="Alammar, Jay",
            year="2018",
            url="https://jalammar.github.io/illustrated-transformer/",
        )
    )
    assert choose_free_copy(blog, []).fields() == {
        "oaurl": "https://jalammar.github.io/illustrated-transformer/",
        "oahost": "web",
    }
    # With a DOI the entry's link is usually the publisher's paywalled page: not counted.
    paper = replace(blog, doi="10.1000/x", links=("https://publisher.example/article/1",))
    assert choose_free_copy(paper, []).location is None


def test_every_shipped_reading_gets_a_free_link_or_the_note() -> None:
    from pathlib import Path

    from dlg_bib.library.database import open_database

    db = open_database(Path(__file__).resolve().parent.parent / "bib")
    chosen = {e.key: choose_free_copy(EntryFacts.from_entry(e), []).fields() for e in db.entries}
    assert all(("oaurl" in f) != ("oanote" in f) for f in chosen.values())
    assert chosen["bahdanau2015neural"]["oahost"] == "arxiv"
    # The published version is kept where it is free (NeurIPS proceedings, OpenReview).
    for key in ("vaswani2017attention", "reddi2018convergence", "krizhevsky2012imagenet"):
        assert chosen[key]["oahost"] == "publisher", key
    assert chosen["mahapatra2020multi"]["oaurl"].startswith("https://proceedings.mlr.press/")
    assert chosen["unknown2021refviii"] == {"oanote": NONE_KNOWN}  # a placeholder

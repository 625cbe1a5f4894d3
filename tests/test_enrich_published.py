"""published: accepting a dblp record as the published version of a preprint (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from dlg_bib.enrich.published import (
    AMBIGUOUS,
    CONFIRMED,
    NO_MATCH,
    UNAVAILABLE,
    Preprint,
    arxiv_year,
    decide,
    published_fields,
)
from dlg_bib.library.matching import entry_people, same_person, strip_homonym, title_key
from dlg_bib.library.model import Entry
from dlg_bib.sources.dblp import DblpLookup, DblpRecord, parse_records

FIXTURES = Path(__file__).parent / "fixtures" / "dblp"


def recorded(name: str) -> dict[str, DblpRecord]:
    data = json.loads((FIXTURES / name).read_text("utf-8"))
    return {r.key: r for r in parse_records(data) or []}


FULL = recorded("sparql_full_records_ordered_authors_homonym_suffix_2026-10_reserialized.json")
ADAM = recorded("sparql_full_record_adam_iclr2015_under_corr_key_2026-10_reserialized.json")


def entry(**fields: str) -> Entry:
    return Entry("k", "misc", {name: "{" + value + "}" for name, value in fields.items()})


VASWANI = Preprint.from_entry(
    entry(
        title="Attention Is All You Need",
        author="Vaswani, Ashish and Shazeer, Noam and Kaiser, {\\L}ukasz",
        year="2017",
        eprint="1706.03762",
        archiveprefix="arXiv",
    )
)


# Posted to arXiv (2019) after its ICLR 2018 publication: the year window starts at the entry.
REDDI = Preprint.from_entry(
    entry(
        title="On the Convergence of {Adam} and Beyond",
        author="Reddi, Sashank J.",
        year="2018",
        eprint="1904.09237",
        archiveprefix="arXiv",
    )
)


def test_preprint_from_entry_reads_title_authors_years_and_arxiv_id() -> None:
    assert VASWANI.arxiv_id == "1706.03762"
    assert VASWANI.years == (2017,)
    assert VASWANI.authors[0].family == ("vaswani",)
    assert REDDI.years == (2018, 2019) and REDDI.year_window == (2018, 2021)


def test_corr_twin_is_skipped_and_the_conference_record_confirmed() -> None:
    lookup = DblpLookup(
        (FULL["journals/corr/VaswaniSPUJGKP17"], FULL["conf/nips/VaswaniSPUJGKP17"])
    )
    decision = decide(VASWANI, lookup)
    assert decision.status == CONFIRMED and decision.confirmed
    assert decision.reason == "conf/nips/VaswaniSPUJGKP17"
    assert decision.entry_type == "inproceedings"
    assert decision.fields == {
        "booktitle": "NIPS",
        "year": "2017",
        "url": "https://proceedings.neurips.cc/paper/2017/hash/"
        "3f5ee243547dee91fbd053c1c4a845aa-Abstract.html",
    }


def test_only_the_corr_record_is_no_match() -> None:
    decision = decide(VASWANI, DblpLookup((FULL["journals/corr/VaswaniSPUJGKP17"],)))
    assert decision.status == NO_MATCH
    assert decision.reason == "journals/corr/VaswaniSPUJGKP17: CoRR record"
    assert decision.fields == {}


def test_iclr_paper_under_a_corr_key_is_accepted_without_its_arxiv_doi() -> None:
    adam = Preprint.from_entry(
        entry(
            title="Adam: A Method for Stochastic Optimization",
            author="Kingma, Diederik P. and Ba, Jimmy",
            year="2014",
            eprint="1412.6980",
            archiveprefix="arXiv",
        )
    )
    decision = decide(adam, DblpLookup(tuple(ADAM.values())))
    assert decision.status == CONFIRMED
    assert decision.record is not None and decision.record.key == "journals/corr/KingmaB14"
    # 10.48550/ARXIV.1412.6980 is the preprint's DataCite DOI and its doi.org page: not recorded.
    assert decision.fields == {"booktitle": "ICLR (Poster)", "year": "2015"}


def test_same_title_with_no_shared_author_is_rejected() -> None:
    other = Preprint.from_entry(
        entry(title="Deep Residual Learning for Image Recognition", author="Doe, Jane", year="2015")
    )
    decision = decide(other, DblpLookup((FULL["conf/cvpr/HeZRS16"],)))
    assert decision.status == NO_MATCH
    assert decision.reason == "conf/cvpr/HeZRS16: different first author"


def test_first_author_with_homonym_suffix_and_diacritics_matches() -> None:
    (rupprecht,) = entry_people("Rupprecht, Christian")
    assert same_person(rupprecht, "Christian Rupprecht 0001")
    (novotny,) = entry_people("Novotn{\\'y}, David")
    assert same_person(novotny, "David Novotný")
    (allen_zhu,) = entry_people("Allen-Zhu, Zeyuan")
    assert same_person(allen_zhu, "Zeyuan Allen-Zhu")
    (li,) = entry_people("Li, Xiaoyu")
    assert not same_person(li, "Yuanzhi Li")
    assert strip_homonym("Xiaopeng Zhang 0009") == "Xiaopeng Zhang"


def test_titles_match_across_latex_case_and_punctuation() -> None:
    assert title_key("{BERT}: Pre-training of Deep Bidirectional Transformers") == title_key(
        "BERT: Pre-Training of Deep Bidirectional Transformers."
    )
    assert title_key("Attention is All you Need.") == title_key("Attention Is All You Need")
    assert title_key("Attention Is All You Need For Blind Room Volume Estimation.") != title_key(
        "Attention Is All You Need"
    )


@pytest.mark.parametrize(
    ("year", "status"),
    [(2016, NO_MATCH), (2017, CONFIRMED), (2020, CONFIRMED), (2021, NO_MATCH), (None, NO_MATCH)],
)
def test_year_must_lie_in_the_preprint_year_to_three_years_later(
    year: int | None, status: str
) -> None:
    record = replace(FULL["conf/nips/VaswaniSPUJGKP17"], year=year)
    assert decide(VASWANI, DblpLookup((record,))).status == status


def test_published_before_the_arxiv_posting_counts_from_the_entry_year() -> None:
    record = DblpRecord(
        key="conf/iclr/ReddiKK18",
        title="On the Convergence of Adam and Beyond",
        authors=("Sashank J. Reddi", "Satyen Kale", "Sanjiv Kumar"),
        year=2018,
        venue="ICLR",
        type="inproceedings",
    )
    assert decide(REDDI, DblpLookup((record,))).status == CONFIRMED


def test_two_accepted_records_are_ambiguous() -> None:
    nips = FULL["conf/nips/VaswaniSPUJGKP17"]
    workshop = replace(nips, key="conf/nips/VaswaniW17", venue="NIPS Workshop")
    decision = decide(VASWANI, DblpLookup((nips, workshop)))
    assert decision.status == AMBIGUOUS
    assert decision.reason == "conf/nips/VaswaniSPUJGKP17, conf/nips/VaswaniW17"
    assert decision.fields == {} and decision.record is None


def test_unavailable_dblp_is_a_reason_not_an_error() -> None:
    decision = decide(VASWANI, DblpLookup(unavailable="dblp unavailable (bot-check page)"))
    assert decision.status == UNAVAILABLE
    assert decision.reason == "dblp unavailable (bot-check page)"


def test_no_records_is_no_match() -> None:
    decision = decide(VASWANI, DblpLookup(via="sparql"))
    assert (decision.status, decision.reason) == (NO_MATCH, "dblp has no record of this title")


@pytest.mark.parametrize("kind", ["book", "proceedings", "reference", "data"])
def test_records_that_are_not_papers_are_rejected(kind: str) -> None:
    record = replace(FULL["conf/nips/VaswaniSPUJGKP17"], type=kind)
    decision = decide(VASWANI, DblpLookup((record,)))
    assert decision.status == NO_MATCH and kind in decision.reason


def test_an_entry_without_authors_is_never_confirmed() -> None:
    anonymous = Preprint.from_entry(entry(title="Attention Is All You Need", year="2017"))
    decision = decide(anonymous, DblpLookup((FULL["conf/nips/VaswaniSPUJGKP17"],)))
    assert decision.status == NO_MATCH and "no first author" in decision.reason


def test_fields_of_a_journal_article() -> None:
    record = DblpRecord(
        key="journals/cacm/KrizhevskySH17",
        title="ImageNet classification with deep convolutional neural networks",
        authors=("Alex Krizhevsky", "Ilya Sutskever", "Geoffrey E. Hinton"),
        year=2017,
        venue="Commun. ACM",
        type="article",
        venue_full="Communications of the ACM",
        volume="60",
        number="6",
        pages="84--90",
        doi="10.1145/3065386",
        url="https://doi.org/10.1145/3065386",
    )
    assert published_fields(record) == (
        "article",
        {
            "journal": "Communications of the ACM",
            "year": "2017",
            "volume": "60",
            "number": "6",
            "pages": "84--90",
            "doi": "10.1145/3065386",
        },
    )


def test_fields_of_proceedings_with_series_and_publisher() -> None:
    record = DblpRecord(
        key="conf/aistats/LiO19",
        title="On the Convergence of Stochastic Gradient Descent with Adaptive Stepsizes",
        authors=("Xiaoyu Li", "Francesco Orabona"),
        year=2019,
        venue="AISTATS",
        type="inproceedings",
        venue_full="Proceedings of the 22nd International Conference on Artificial Intelligence"
        " and Statistics",
        volume="89",
        pages="983--992",
        publisher="PMLR",
        series="Proceedings of Machine Learning Research",
        url="http://proceedings.mlr.press/v89/li19c.html",
    )
    kind, fields = published_fields(record)
    assert kind == "inproceedings"
    assert fields["series"] == "Proceedings of Machine Learning Research"
    assert (fields["volume"], fields["pages"], fields["publisher"]) == ("89", "983--992", "PMLR")
    assert fields["url"] == "http://proceedings.mlr.press/v89/li19c.html"


@pytest.mark.parametrize(
    ("arxiv_id", "year"),
    [
        ("1706.03762", 2017),
        ("2503.11651", 2025),
        ("math/0211159", 2002),
        ("hep-th/9901001", 1999),
        ("", None),
    ],
)
def test_arxiv_year(arxiv_id: str, year: int | None) -> None:
    assert arxiv_year(arxiv_id) == year

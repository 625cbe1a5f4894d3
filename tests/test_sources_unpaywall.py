"""Unpaywall source: real recorded answers in both formats, served with `responses`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from dlg_bib.enrich.openaccess import NONE_KNOWN, EntryFacts, choose_free_copy
from dlg_bib.library.model import Entry
from dlg_bib.sources.http import HttpClient
from dlg_bib.sources.records import PMC, PUBLISHER, REPOSITORY
from dlg_bib.sources.unpaywall import UnpaywallSource, author_name

FIXTURES = Path(__file__).parent / "fixtures" / "unpaywall"
API = "https://unpaywall.test"
MAIL = "dlg@example.org"

PNAS = "v2_10.1073_pnas.1414271111_bronze_with_pmc_repository_copy_2025-08.json"
XGEN = "v2_10.1016_j.xgen.2025.100814_gold_2025-08.json"
BIORXIV = "v2_10.1101_2024.04.01.587366_biorxiv_green_old_format_2024-08.json"
CLOSED_OLD = "v2_10.1023_a_1007154515475_closed_title_null_old_format_2024-10.json"
CLOSED_NEW = "v2_10.1023_a_1007154515475_closed_2025-09.json"
NOT_FOUND = "synthetic_v2_404_not_in_unpaywall.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def source(email: str | None = MAIL) -> UnpaywallSource:
    return UnpaywallSource(HttpClient(clock=FakeClock()), url=API, email=email)


def serve(doi: str, name: str, status: int = 200) -> None:
    responses.get(
        f"{API}/v2/{doi}",
        body=(FIXTURES / name).read_bytes(),
        status=status,
        content_type="application/json",
    )


def facts(**fields: str) -> EntryFacts:
    raw = {name: "{" + value + "}" for name, value in fields.items()}
    return EntryFacts.from_entry(Entry("k", "article", raw))


@responses.activate
def test_new_format_authors_and_publisher_pdf_before_pmc_copy() -> None:
    serve("10.1073/pnas.1414271111", PNAS)
    result = source().work_by_doi("10.1073/pnas.1414271111")
    work = result.work
    assert work is not None and not result.unavailable
    assert work.authors[0] == "Eleftherios A. Makris"  # raw_author_name shape
    assert work.authors[-1] == "Kyriacos A. Athanasiou"
    assert [(loc.host, loc.version) for loc in work.locations] == [
        (PUBLISHER, "published"),
        (PMC, "submitted"),
    ]
    sent = responses.calls[0].request.url or ""
    assert parse_qs(urlsplit(sent).query)["email"] == [MAIL]
    entry = facts(
        title="Developing Functional Musculoskeletal Tissues through Hypoxia and Lysyl"
        " Oxidase-Induced Collagen Cross-Linking",
        author="Makris, Eleftherios A.",
        year="2014",
        doi="10.1073/pnas.1414271111",
    )
    assert choose_free_copy(entry, [work]).fields() == {
        "oaurl": "https://www.pnas.org/content/pnas/111/45/E4832.full.pdf",
        "oaversion": "published",
        "oahost": "publisher",
    }


@responses.activate
def test_old_format_authors_given_family_and_null_title() -> None:
    serve("10.1023/a:1007154515475", CLOSED_OLD)
    work = source().work_by_doi("10.1023/a:1007154515475").work
    assert work is not None
    assert work.title is None and work.year == 2001
    assert work.authors[:2] == ("Subrata Adak", "Debashis Bandyopadhyay")
    assert work.locations == ()
    entry = facts(
        title="An essential role of active site arginine residue in iodide binding",
        author="Adak, Subrata",
        year="2001",
        doi="10.1023/A:1007154515475",
    )
    copy = choose_free_copy(entry, [work])
    assert copy.fields() == {"oanote": NONE_KNOWN} and copy.rejected == ()


@responses.activate
def test_both_formats_of_the_same_record_give_the_same_authors() -> None:
    serve("10.1023/a:1007154515475", CLOSED_NEW)
    new = source().work_by_doi("10.1023/a:1007154515475").work
    old = author_name({"given": "Subrata", "family": "Adak", "sequence": "first"})
    assert new is not None and new.authors[0] == old == "Subrata Adak"


@responses.activate
def test_old_format_repository_copy_with_licence() -> None:
    serve("10.1101/2024.04.01.587366", BIORXIV)
    work = source().work_by_doi("10.1101/2024.04.01.587366").work
    assert work is not None and work.authors[0] == "Michael Herger"
    (location,) = work.locations
    assert (location.host, location.version, location.license) == (REPOSITORY, "submitted", "cc-by")
    assert location.url.endswith("2024.04.01.587366.full.pdf")


@responses.activate
def test_the_preprint_of_a_paper_is_another_work() -> None:
    serve("10.1016/j.xgen.2025.100814", XGEN)
    serve("10.1101/2024.04.01.587366", BIORXIV)
    unpaywall = source()
    journal = unpaywall.work_by_doi("10.1016/j.xgen.2025.100814").work
    preprint = unpaywall.work_by_doi("10.1101/2024.04.01.587366").work
    assert journal is not None and preprint is not None
    entry = facts(
        title="High-throughput screening of human genetic variants by pooled prime editing",
        author="Herger, Michael",
        year="2025",
        doi="10.1016/j.xgen.2025.100814",
    )
    copy = choose_free_copy(entry, [preprint, journal])
    assert copy.fields() == {
        "oaurl": "https://doi.org/10.1016/j.xgen.2025.100814",
        "oaversion": "published",
        "oalicense": "cc-by",
        "oahost": "publisher",
    }
    assert copy.rejected == (
        "unpaywall: work has DOI 10.1101/2024.04.01.587366, entry 10.1016/j.xgen.2025.100814",
    )


@responses.activate
def test_404_is_not_found() -> None:
    serve("10.9999/not.in.unpaywall", NOT_FOUND, status=404)
    result = source().work_by_doi("10.9999/not.in.unpaywall")
    assert result.work is None and not result.unavailable


def test_without_a_contact_address_nothing_is_sent() -> None:
    result = source(email="").work_by_doi("10.1073/pnas.1414271111")
    assert result.work is None and "DLG_BIB_MAILTO" in result.unavailable


@pytest.mark.parametrize("status", [422, 429, 503])
@responses.activate
def test_rejections_and_throttling_stop_unpaywall_for_the_run(status: int) -> None:
    responses.get(f"{API}/v2/10.1/a", json={"error": True}, status=status)
    unpaywall = source()
    first = unpaywall.work_by_doi("10.1/a")
    assert first.unavailable.startswith("Unpaywall unavailable")
    calls = len(responses.calls)
    assert unpaywall.work_by_doi("10.1/b").unavailable == first.unavailable
    assert len(responses.calls) == calls

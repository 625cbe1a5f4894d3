"""OpenAlex source: singleton doi: lookups of real recorded works, served with `responses`."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from dlg_bib.enrich.openaccess import NONE_KNOWN, EntryFacts, choose_free_copy
from dlg_bib.library.model import Entry
from dlg_bib.sources.http import DiskCache, HttpClient, Mode
from dlg_bib.sources.openalex import OpenAlexSource, parse_work
from dlg_bib.sources.records import ARXIV, PMC, PUBLISHER

FIXTURES = Path(__file__).parent / "fixtures" / "openalex"
API = "https://openalex.test"
KEY = "sekrit-key-123"

PNAS = "work_doi_url_10.1073_pnas.1414271111_bronze_with_pmc_copies_2025-08.json"
JCTC = "work_doi_url_10.1021_acs.jctc.5b00178_green_but_best_oa_null_repo_copy_2025-11.json"
CLOSED = "work_doi_url_10.1023_a_1007154515475_closed_2025-09.json"
CVPR = "work_doi_10.1109_cvpr.2016.90_conference_no_arxiv_location_walden_2026-10_reserialized.json"
ATTENTION = (
    "work_W2626778328_attention_polluted_doi_no_neurips_location_walden_2026-10_reserialized.json"
)
NOT_FOUND = "work_404_doi_url_10.1046_j.1365-2699.2003.00795_flask_html_2025-11.html"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def source(tmp_path: Path | None = None, api_key: str | None = None) -> OpenAlexSource:
    client = HttpClient(
        cache=DiskCache(tmp_path) if tmp_path else None, clock=FakeClock(), mode=Mode.NORMAL
    )
    return OpenAlexSource(client, url=API, api_key=api_key if api_key is not None else "")


def serve(doi: str, name: str, status: int = 200) -> None:
    content_type = "text/html; charset=utf-8" if name.endswith(".html") else "application/json"
    responses.get(
        f"{API}/works/doi:{doi}",
        body=(FIXTURES / name).read_bytes(),
        status=status,
        content_type=content_type,
    )


def facts(entry_type: str = "article", **fields: str) -> EntryFacts:
    raw = {name: "{" + value + "}" for name, value in fields.items()}
    return EntryFacts.from_entry(Entry("k", entry_type, raw))


PNAS_ENTRY = facts(
    title="Developing functional musculoskeletal tissues through hypoxia and lysyl"
    " oxidase-induced collagen cross-linking",
    author="Makris, Eleftherios A. and Athanasiou, Kyriacos A.",
    year="2014",
    doi="10.1073/pnas.1414271111",
)


@responses.activate
def test_work_with_oa_locations_gives_the_publisher_version() -> None:
    serve("10.1073/pnas.1414271111", PNAS)
    result = source().work_by_doi("10.1073/pnas.1414271111")
    assert result.work is not None and not result.unavailable
    work = result.work
    assert work.doi == "10.1073/pnas.1414271111" and work.year == 2014
    assert work.authors[0] == "Eleftherios A. Makris"  # raw name, not display_name
    hosts = [(loc.host, loc.version, loc.is_oa) for loc in work.locations]
    assert hosts[:2] == [(PUBLISHER, "published", True), (PMC, "published", True)]
    copy = choose_free_copy(PNAS_ENTRY, [work])
    assert copy.fields() == {
        "oaurl": "https://doi.org/10.1073/pnas.1414271111",
        "oaversion": "published",
        "oahost": "publisher",
    }


@responses.activate
def test_work_without_oa_location_even_when_open_access_says_green() -> None:
    serve("10.1021/acs.jctc.5b00178", JCTC)
    work = source().work_by_doi("10.1021/acs.jctc.5b00178").work
    assert work is not None and not any(loc.is_oa for loc in work.locations)
    entry = facts(
        title="Designing Free Energy Surfaces That Match Experimental Data with Metadynamics",
        author="White, Andrew D.",
        year="2015",
        doi="10.1021/acs.jctc.5b00178",
    )
    assert choose_free_copy(entry, [work]).fields() == {"oanote": NONE_KNOWN}


@responses.activate
def test_closed_work_with_colon_in_the_doi() -> None:
    serve("10.1023/a:1007154515475", CLOSED)
    work = source().work_by_doi("10.1023/a:1007154515475").work
    assert work is not None and work.year == 2001 and work.authors[1] == "Debashis Bandyopadhyay"


@responses.activate
def test_stray_thesis_location_of_another_work_is_rejected() -> None:
    serve("10.1109/CVPR.2016.90", CVPR)
    work = source().work_by_doi("10.1109/CVPR.2016.90").work
    assert work is not None
    entry = facts(
        "inproceedings",
        title="Deep Residual Learning for Image Recognition",
        author="He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian",
        year="2016",
        doi="10.1109/CVPR.2016.90",
        eprint="1512.03385",
        archiveprefix="arXiv",
    )
    copy = choose_free_copy(entry, [work])
    assert copy.location is not None and copy.location.host == ARXIV
    assert copy.fields()["oaurl"] == "https://arxiv.org/pdf/1512.03385"
    assert any("a thesis" in reason for reason in copy.rejected)
    # Without the arXiv copy, nothing: the "best" OA location is not this paper.
    no_arxiv = facts(
        "inproceedings",
        title="Deep Residual Learning for Image Recognition",
        author="He, Kaiming",
        year="2016",
        doi="10.1109/CVPR.2016.90",
    )
    assert choose_free_copy(no_arxiv, [work]).location is None


def test_polluted_work_of_another_year_and_doi_is_not_used() -> None:
    work = parse_work(json.loads((FIXTURES / ATTENTION).read_text("utf-8")))
    assert work.doi == "10.65215/2q58a426" and work.year == 2025
    assert "Niki Parmar" in work.authors  # raw_author_name, not "Niki Jitendra Parmar"
    entry = facts(
        "inproceedings",
        title="Attention Is All You Need",
        author="Vaswani, Ashish and Shazeer, Noam",
        year="2017",
        eprint="1706.03762",
        archiveprefix="arXiv",
    )
    copy = choose_free_copy(entry, [work])
    assert copy.rejected == ("openalex: year 2025, entry 2017",)
    assert copy.fields()["oaurl"] == "https://arxiv.org/pdf/1706.03762"


@responses.activate
def test_404_html_is_not_found() -> None:
    serve("10.1046/j.1365-2699.2003.00795", NOT_FOUND, status=404)
    result = source().work_by_doi("10.1046/j.1365-2699.2003.00795")
    assert result.work is None and not result.unavailable


@responses.activate
def test_api_key_is_sent_but_never_cached_logged_or_shown(tmp_path: Path) -> None:
    serve("10.1073/pnas.1414271111", PNAS)
    alex = source(tmp_path, api_key=KEY)
    assert alex.work_by_doi("10.1073/pnas.1414271111").work is not None
    sent = responses.calls[0].request.url or ""
    assert parse_qs(urlsplit(sent).query)["api_key"] == [KEY]
    assert KEY not in repr(alex)
    stored = [p.read_text("utf-8") for p in tmp_path.rglob("*.json")]
    assert len(stored) == 1 and KEY not in stored[0]
    # The cached answer serves the next run, with or without a key, and sends nothing.
    again = source(tmp_path).work_by_doi("10.1073/pnas.1414271111")
    assert again.work is not None and len(responses.calls) == 1


@pytest.mark.parametrize(
    ("status", "content_type", "payload"),
    [
        (429, "application/json", b'{"error": "Rate limit exceeded"}'),
        (403, "application/json", b'{"error": "Forbidden"}'),
        (200, "text/html", b"<html>maintenance</html>"),
        (200, "application/json", b"[1, 2]"),
    ],
)
@responses.activate
def test_throttling_and_odd_answers_stop_openalex_for_the_run(
    status: int, content_type: str, payload: bytes
) -> None:
    responses.get(f"{API}/works/doi:10.1/a", body=payload, status=status, content_type=content_type)
    alex = source(api_key=KEY)
    first = alex.work_by_doi("10.1/a")
    assert first.work is None and first.unavailable.startswith("OpenAlex unavailable")
    assert KEY not in first.unavailable
    calls = len(responses.calls)
    assert alex.work_by_doi("10.1/b").unavailable == first.unavailable
    assert len(responses.calls) == calls

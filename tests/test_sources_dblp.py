"""dblp source: SPARQL first, search API as fallback, "unavailable" as an ordinary outcome.

Bodies are the real recordings in tests/fixtures/dblp/ (a synthetic bot-check page where no
real one was saved; see the README there), served with `responses`; time is a fake clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from dlg_bib.enrich.published import CONFIRMED, DBLP_TEXT, Preprint, decide, published_version
from dlg_bib.library.database import open_database
from dlg_bib.sources import dblp
from dlg_bib.sources.http import DiskCache, HttpClient, Mode
from tests.dblp_stub_server import DblpStubServer

FIXTURES = Path(__file__).parent / "fixtures" / "dblp"
SHIPPED = FIXTURES / "shipped"
BIB = Path(__file__).resolve().parent.parent / "bib"

SPARQL = "https://sparql.test/sparql"
API = "https://dblp.test"
SEARCH = f"{API}/search/publ/api"
SPARQL_JSON = "application/sparql-results+json"
TITLE_QUERY = "FILTER(?t >="
RECORDS_QUERY = "VALUES ?pub"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.now += seconds


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def query_containing(text: str) -> Callable[[requests.PreparedRequest], tuple[bool, str]]:
    def match(request: requests.PreparedRequest) -> tuple[bool, str]:
        query = parse_qs(urlsplit(request.url or "").query).get("query", [""])[0]
        return text in query, f"query without {text!r}"

    return match


def serve_sparql(title_body: bytes, records_body: bytes | None = None) -> None:
    responses.get(
        SPARQL, body=title_body, content_type=SPARQL_JSON, match=[query_containing(TITLE_QUERY)]
    )
    if records_body is not None:
        responses.get(
            SPARQL,
            body=records_body,
            content_type=SPARQL_JSON,
            match=[query_containing(RECORDS_QUERY)],
        )


def make_source(tmp_cache: Path | None = None, mode: Mode = Mode.NORMAL) -> dblp.DblpSource:
    cache = DiskCache(tmp_cache) if tmp_cache else None
    client = HttpClient(contact="dlg@example.org", cache=cache, mode=mode, clock=FakeClock())
    return dblp.DblpSource(client, text=DBLP_TEXT, sparql=SPARQL, api=API)


def sent_queries() -> list[str]:
    return [
        parse_qs(urlsplit(call.request.url or "").query).get("query", [""])[0]
        for call in responses.calls
        if (call.request.url or "").startswith(SPARQL)
    ]


def vaswani() -> Preprint:
    return Preprint.from_entry(open_database(BIB).find("vaswani2017attention"))  # type: ignore[arg-type]


# ---- SPARQL ------------------------------------------------------------------------------


@responses.activate
def test_sparql_title_range_then_full_records_finds_conference_paper_and_corr_twin() -> None:
    serve_sparql(
        body("sparql_title_prefix_attention_conf_nips_and_corr_twin_2026-10_reserialized.json"),
        body("sparql_full_records_ordered_authors_homonym_suffix_2026-10_reserialized.json"),
    )
    source = make_source()

    lookup = source.find("Attention Is All You Need")

    assert lookup.via == "sparql" and not lookup.unavailable
    by_key = {r.key: r for r in lookup.records}
    # Only the two records whose title matches; the rest of the answer is not taken.
    assert sorted(by_key) == ["conf/nips/VaswaniSPUJGKP17", "journals/corr/VaswaniSPUJGKP17"]
    nips = by_key["conf/nips/VaswaniSPUJGKP17"]
    assert nips.title == "Attention is All you Need"
    assert nips.authors[:3] == ("Ashish Vaswani", "Noam Shazeer", "Niki Parmar")
    assert len(nips.authors) == 8
    assert (nips.year, nips.venue, nips.type, nips.doi) == (2017, "NIPS", "inproceedings", "")
    assert nips.url.startswith("https://proceedings.neurips.cc/paper/2017/hash/")
    assert not nips.is_corr
    twin = by_key["journals/corr/VaswaniSPUJGKP17"]
    assert twin.is_corr and twin.doi == "10.48550/ARXIV.1706.03762"

    decision = decide(vaswani(), lookup)
    assert decision.status == CONFIRMED
    assert decision.record is not None and decision.record.key == "conf/nips/VaswaniSPUJGKP17"


@responses.activate
def test_sparql_requests_are_a_lowercase_prefix_range_paced_one_second_apart() -> None:
    serve_sparql(
        body("sparql_title_prefix_attention_conf_nips_and_corr_twin_2026-10_reserialized.json"),
        body("sparql_full_records_ordered_authors_homonym_suffix_2026-10_reserialized.json"),
    )
    source = make_source()
    # The title as written in the entry (LaTeX): the caller reads it as text for dblp.
    published_version(source, Preprint("Attention Is {All} You Need", ()))

    title_query, records_query = sent_queries()
    assert '?t >= "attention is all you need"' in title_query
    assert '?t < "attention is all you neee"' in title_query
    assert "<https://dblp.org/rec/conf/nips/VaswaniSPUJGKP17>" in records_query
    assert all(c.request.headers["Accept"] == SPARQL_JSON for c in responses.calls)
    assert "mailto:dlg@example.org" in responses.calls[0].request.headers["User-Agent"]
    clock = source.client.clock
    assert isinstance(clock, FakeClock) and sum(clock.sleeps) >= 1.0


def test_iclr_paper_under_corr_key_is_a_conference_record() -> None:
    data = json.loads(
        body("sparql_full_record_adam_iclr2015_under_corr_key_2026-10_reserialized.json")
    )
    (adam,) = dblp.parse_records(data) or []
    assert adam.key == "journals/corr/KingmaB14"
    assert (adam.type, adam.venue, adam.year) == ("inproceedings", "ICLR (Poster)", 2015)
    assert adam.authors == ("Diederik P. Kingma", "Jimmy Ba")
    assert not adam.is_corr  # by venue and type, not by the journals/corr/ key


def test_sparql_homonym_suffixes_are_stripped_and_authors_kept_in_order() -> None:
    data = json.loads(
        body("sparql_full_records_ordered_authors_homonym_suffix_2026-10_reserialized.json")
    )
    records = {r.key: r for r in dblp.parse_records(data) or []}
    assert records["conf/cvpr/HeZRS16"].authors == (
        "Kaiming He",
        "Xiangyu Zhang",
        "Shaoqing Ren",
        "Jian Sun",
    )
    assert records["conf/cvpr/HeZRS16"].doi == "10.1109/CVPR.2016.90"
    assert records["conf/cvpr/WangCKV0N25"].authors[4] == "Christian Rupprecht"
    assert records["conf/naacl/DevlinCLT19"].venue == "NAACL-HLT (1)"


def test_title_range_is_escaped_for_sparql() -> None:
    query = dblp.title_query('A "quoted" title')
    assert '?t >= "a \\"quoted\\" title"' in query
    assert dblp._sparql_string("back\\slash\nnewline") == '"back\\\\slash newline"'


# ---- search API --------------------------------------------------------------------------


def test_search_current_format_object_authors_with_homonym_suffix() -> None:
    data = json.loads(
        body("search_publ_json_attention_h1_pid_homonym0009_access_completion_object.json")
    )
    (record,) = dblp.parse_search(data) or []
    assert record.authors == ("Xiaopeng Zhang", "Haoyu Yang", "Evangeline F. Y. Young")
    assert (
        record.title
        == "Attentional Transfer is All You Need: Technology-aware Layout Pattern Generation"
    )
    assert (record.venue, record.year, record.type) == ("DAC", 2021, "inproceedings")
    assert (record.pages, record.doi) == ("169--174", "10.1109/DAC18074.2021.9586227")
    assert record.key == "conf/dac/ZhangYY21" and not record.complete


def test_search_single_author_as_object_and_single_hit_as_object() -> None:
    data = json.loads(
        body("search_publ_json_attention_h1_pid_homonym0009_access_completion_object.json")
    )
    hit: dict[str, Any] = data["result"]["hits"]["hit"][0]
    hit["info"]["authors"]["author"] = hit["info"]["authors"]["author"][0]
    data["result"]["hits"]["hit"] = hit  # one element: an object, not a list
    (record,) = dblp.parse_search(data) or []
    assert record.authors == ("Xiaopeng Zhang",)


def test_search_legacy_format_single_author_as_bare_string() -> None:
    data = json.loads(body("search_publ_json_test_h30_2019_legacy_string_authors_transcribed.json"))
    records = {r.key: r for r in dblp.parse_search(data) or []}
    assert len(records) == 30
    assert records["conf/date/Pomeranz14"].authors == ("Irith Pomeranz",)
    assert records["conf/ats/ShinogiYHTY05"].authors[0] == "Tsuyoshi Shinogi"
    thesis = records["phd/hal/Bessayah10"]
    assert thesis.type == "book" and "l'injection" in thesis.title  # &apos; unescaped


def test_search_without_hits_is_no_match() -> None:
    data = {"result": {"query": "zzz*", "hits": {"@total": "0", "@sent": "0", "@first": "0"}}}
    assert dblp.parse_search(data) == []


@responses.activate
def test_search_api_is_the_fallback_when_sparql_fails_and_sparql_is_not_asked_again() -> None:
    responses.get(
        SPARQL,
        body=body("synthetic_503_service_unavailable.html"),
        status=503,
        content_type="text/html",
    )
    responses.get(
        SEARCH,
        body=body("search_publ_json_test_h30_2019_legacy_string_authors_transcribed.json"),
        content_type="application/json",
    )
    source = make_source()
    title = "Test and non-test cubes for diagnostic test generation based on merging of test cubes"

    lookup = source.find(title)

    assert lookup.via == "search" and not lookup.unavailable
    assert [r.key for r in lookup.records] == ["conf/date/Pomeranz14"]
    sent = responses.calls[-1].request
    params = parse_qs(urlsplit(sent.url or "").query)
    assert params["format"] == ["json"] and params["c"] == ["0"]
    assert params["q"] == [title.replace("-", " ")]
    sparql_calls = len(sent_queries())
    source.find(title)
    assert len(sent_queries()) == sparql_calls  # SPARQL is down for the rest of the run


# ---- unavailable -------------------------------------------------------------------------


@responses.activate
def test_bot_check_page_and_429_without_retry_after_mean_unavailable_once() -> None:
    responses.get(
        SPARQL,
        body=body("synthetic_429_too_many_requests.html"),
        status=429,
        content_type="text/html",
    )
    responses.get(
        SEARCH, body=body("synthetic_anubis_botcheck_page.html"), content_type="text/html"
    )
    source = make_source()

    lookup = source.find("Attention Is All You Need")

    assert lookup.records == ()
    assert "429" in lookup.unavailable and "bot-check" in lookup.unavailable
    assert "bot-check page instead of data (HTTP 200)" in source.unavailable
    sparql_note, search_note = source.notes
    assert sparql_note.startswith("dblp SPARQL endpoint unavailable: throttled (HTTP 429)")
    assert search_note == "dblp search API unavailable: bot-check page instead of data (HTTP 200)"
    calls = len(responses.calls)
    again = source.find("On the Convergence of Adam and Beyond")
    assert again.unavailable and len(responses.calls) == calls  # no further requests


@responses.activate
def test_bot_check_page_on_the_sparql_endpoint_is_not_a_parse_error() -> None:
    responses.get(
        SPARQL, body=body("synthetic_anubis_botcheck_page.html"), content_type="text/html"
    )
    responses.get(
        SEARCH, body=body("synthetic_anubis_botcheck_page.html"), content_type="text/html"
    )
    source = make_source()
    lookup = source.find("Attention Is All You Need")
    assert lookup.unavailable.startswith("dblp unavailable (bot-check page")
    assert len(responses.calls) == 2  # one each, no retry of a 200


@responses.activate
def test_429_with_retry_after_means_unavailable_without_waiting() -> None:
    responses.get(SPARQL, body=b"", status=429, headers={"Retry-After": "7"})
    responses.get(SEARCH, body=b"", status=429, headers={"Retry-After": "7"})
    source = make_source()
    lookup = source.find("Attention Is All You Need")
    assert "429" in lookup.unavailable
    clock = source.client.clock
    # dblp's policy has no retries: a throttle is "unavailable for this run", not a wait.
    assert isinstance(clock, FakeClock) and all(s < 7.0 for s in clock.sleeps)
    assert len(sent_queries()) == 1 and len(responses.calls) == 2  # one per channel
    calls = len(responses.calls)
    source.find("Attention Is All You Need")
    assert len(responses.calls) == calls


@pytest.mark.parametrize(
    ("status", "content_type", "payload"),
    [
        (200, "text/plain", b"Rate exceeded."),
        (200, "application/json", b"{not json"),
        (200, "application/json", b'{"unexpected": "shape"}'),
    ],
)
@responses.activate
def test_answers_that_are_not_sparql_json_mean_unavailable(
    status: int, content_type: str, payload: bytes
) -> None:
    responses.get(SPARQL, body=payload, status=status, content_type=content_type)
    responses.get(SEARCH, body=payload, status=status, content_type=content_type)
    source = make_source()
    lookup = source.find("Attention Is All You Need")
    assert lookup.unavailable.startswith("dblp unavailable (")
    assert source.unavailable


@responses.activate
def test_a_rejected_sparql_query_falls_back_without_marking_sparql_down() -> None:
    error = {"exception": "Invalid SPARQL query", "metadata": {}}
    responses.get(SPARQL, json=error, status=400)
    responses.get(
        SEARCH,
        body=body("search_publ_json_attention_h1_pid_homonym0009_access_completion_object.json"),
        content_type="application/json",
    )
    source = make_source()
    lookup = source.find(
        "Attentional Transfer is All You Need: Technology-aware Layout Pattern Generation"
    )
    assert lookup.via == "search" and len(lookup.records) == 1
    assert dblp.CHANNEL_SPARQL not in source.down


def test_offline_without_cache_is_unavailable_not_an_error(tmp_path: Path) -> None:
    source = make_source(tmp_path, mode=Mode.OFFLINE)
    lookup = source.find("Attention Is All You Need")
    assert "--offline" in lookup.unavailable


@responses.activate
def test_answers_are_cached_and_a_second_run_sends_nothing(tmp_path: Path) -> None:
    serve_sparql(
        body("sparql_title_prefix_attention_conf_nips_and_corr_twin_2026-10_reserialized.json"),
        body("sparql_full_records_ordered_authors_homonym_suffix_2026-10_reserialized.json"),
    )
    first = make_source(tmp_path).find("Attention Is All You Need")
    calls = len(responses.calls)
    second = make_source(tmp_path, mode=Mode.OFFLINE).find("Attention Is All You Need")
    assert second == first and len(responses.calls) == calls


@responses.activate
def test_unavailable_answers_are_not_cached(tmp_path: Path) -> None:
    responses.get(
        SPARQL, body=body("synthetic_anubis_botcheck_page.html"), content_type="text/html"
    )
    responses.get(
        SEARCH, body=body("synthetic_anubis_botcheck_page.html"), content_type="text/html"
    )
    make_source(tmp_path).find("Attention Is All You Need")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


# ---- BibTeX export -----------------------------------------------------------------------


def bastmw06(**changes: Any) -> dblp.DblpRecord:
    record = dblp.DblpRecord(
        key="conf/spire/BastMW06",
        title="Output-Sensitive Autocompletion Search",
        authors=("H. Bast", "Christian Worm Mortensen", "Ingmar Weber"),
        year=2006,
        venue="SPIRE",
        type="inproceedings",
        pages="150--162",
        complete=False,
    )
    return replace(record, **changes) if changes else record


@responses.activate
def test_complete_reads_the_full_venue_from_the_bibtex_export() -> None:
    responses.get(
        f"{API}/rec/conf/spire/BastMW06.bib",
        body=body("rec_conf_spire_BastMW06_bib_param1_standard_2020.bib"),
        content_type="application/x-bibtex",
        match=[responses.matchers.query_param_matcher({"param": "1"})],
    )
    full = make_source().complete(bastmw06())
    assert full.complete
    assert full.venue_full.startswith("String Processing and Information Retrieval, 13th")
    assert "SPIRE 2006, Glasgow" in full.venue_full
    assert (full.series, full.volume, full.publisher) == (
        "Lecture Notes in Computer Science",
        "4209",
        "Springer",
    )
    assert full.doi == "10.1007/11880561_13"  # the \_ escape undone


@responses.activate
def test_complete_keeps_the_record_when_the_export_is_a_bot_check() -> None:
    responses.get(
        f"{API}/rec/conf/spire/BastMW06.bib",
        body=body("synthetic_anubis_botcheck_page.html"),
        content_type="text/html",
    )
    record = bastmw06()
    assert make_source().complete(record) == record


@responses.activate
def test_complete_of_an_unknown_key_keeps_the_record_and_the_channel() -> None:
    responses.get(
        f"{API}/rec/conf/spire/BastMW06.bib",
        body=b"<html><h1>404 Not Found</h1></html>",
        status=404,
        content_type="text/html",
    )
    source = make_source()
    record = bastmw06()
    assert source.complete(record) == record
    assert source.down == {}


def test_bibtex_links_keep_tilde_and_percent() -> None:
    text = (
        "@inproceedings{DBLP:conf/x/Y20,\n  author = {A. B},\n  title = {T},\n"
        "  url = {https://www.example.edu/~ab/a\\_b\\%7E.pdf},\n}\n"
    )
    record = dblp.parse_bibtex(text, "conf/x/Y20", DBLP_TEXT.decode)
    assert record is not None and record.url == "https://www.example.edu/~ab/a_b%7E.pdf"


def test_bibtex_with_crossref_takes_series_from_the_proceedings_entry() -> None:
    text = body("rec_conf_spire_BastMW06_bib_param2_crossref_2020.bib").decode()
    record = dblp.parse_bibtex(text, "conf/spire/BastMW06", DBLP_TEXT.decode)
    assert record is not None
    assert (record.series, record.volume, record.publisher) == (
        "Lecture Notes in Computer Science",
        "4209",
        "Springer",
    )
    assert record.authors == ("H. Bast", "Christian Worm Mortensen", "Ingmar Weber")


def test_bibtex_both_column_layouts_give_the_same_record() -> None:
    old = body("rec_series_sci_2023-1062_bib_2023_12col_alignment.bib").decode()
    new = body("rec_series_sci_2023-1062_bib_2025_15col_alignment.bib").decode()
    first = dblp.parse_bibtex(old, "series/sci/2023-1062", DBLP_TEXT.decode)
    assert first is not None and first == dblp.parse_bibtex(
        new, "series/sci/2023-1062", DBLP_TEXT.decode
    )
    assert first.title.startswith("Banach Space Valued Neural Network - Ordinary and Fractional")
    assert first.type == "book"


# ---- the shipped conference entries (stubs in fixtures/dblp/shipped) -----------------------

SHIPPED_KEYS = [
    "vaswani2017attention",
    "bahdanau2015neural",
    "reddi2018convergence",
    "li2019convergence",
    "mahapatra2020multi",
    "krizhevsky2012imagenet",
]
PUBLISHED_FIELDS = ("booktitle", "series", "publisher", "volume", "pages", "doi", "url")


def expected_fields(key: str) -> dict[str, str]:
    entry = open_database(BIB).find(key)
    assert entry is not None
    names = [*PUBLISHED_FIELDS, "year"]
    # Plain text as dblp gives it: the entry's case-protecting braces removed, `--` kept.
    return {n: entry.get(n).replace("{", "").replace("}", "") for n in names if entry.has(n)}


def preprint_without_published_fields(key: str) -> Preprint:
    entry = open_database(BIB).find(key)
    assert entry is not None
    for name in PUBLISHED_FIELDS:
        entry.fields.pop(name, None)
    return Preprint.from_entry(entry)


@pytest.mark.parametrize("key", SHIPPED_KEYS)
@responses.activate
def test_shipped_entries_get_their_published_fields_back_from_sparql(key: str) -> None:
    serve_sparql(
        (SHIPPED / f"{key}_sparql_title.json").read_bytes(),
        (SHIPPED / f"{key}_sparql_records.json").read_bytes(),
    )
    preprint = preprint_without_published_fields(key)
    lookup = make_source().find(preprint.title)
    decision = decide(preprint, lookup)
    assert decision.status == CONFIRMED, decision.reason
    assert decision.entry_type == "inproceedings"
    assert decision.fields == expected_fields(key)


@pytest.mark.parametrize("key", SHIPPED_KEYS)
@responses.activate
def test_shipped_entries_get_their_published_fields_back_from_the_search_api(key: str) -> None:
    responses.get(
        SPARQL, body=body("synthetic_anubis_botcheck_page.html"), content_type="text/html"
    )
    responses.get(
        SEARCH, body=(SHIPPED / f"{key}_search.json").read_bytes(), content_type="application/json"
    )
    for bib in SHIPPED.glob("rec_*.bib"):
        record_key = bib.stem.removeprefix("rec_").replace("_", "/")
        responses.get(f"{API}/rec/{record_key}.bib", body=bib.read_bytes())
    decision = published_version(make_source(), preprint_without_published_fields(key))
    assert decision.status == CONFIRMED, decision.reason
    assert decision.record is not None and decision.record.complete
    assert decision.fields == expected_fields(key)


# ---- a real local dblp (tests/dblp_stub_server.py), for end-to-end tests ----------------


def test_local_stub_dblp_restores_every_shipped_entry() -> None:
    with DblpStubServer() as server:
        client = HttpClient(clock=FakeClock())
        source = dblp.DblpSource(
            client, text=DBLP_TEXT, sparql=server.sparql_url, api=server.api_url
        )
        for key in SHIPPED_KEYS:
            decision = published_version(source, preprint_without_published_fields(key))
            assert decision.status == CONFIRMED, (key, decision.reason)
            assert decision.fields == expected_fields(key), key
        assert server.hits["/sparql"] == 2 * len(SHIPPED_KEYS)
        assert server.hits["/search/publ/api"] == 0


def test_local_stub_dblp_behind_a_bot_check_is_unavailable_once() -> None:
    with DblpStubServer(bot_check=True) as server:
        client = HttpClient(clock=FakeClock())
        source = dblp.DblpSource(
            client, text=DBLP_TEXT, sparql=server.sparql_url, api=server.api_url
        )
        reasons = {
            published_version(source, preprint_without_published_fields(key)).status
            for key in SHIPPED_KEYS
        }
        assert reasons == {"source unavailable"}
        assert sum(server.hits.values()) == 2  # one request per channel, then nothing

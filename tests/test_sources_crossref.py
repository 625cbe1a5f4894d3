"""The Crossref source: work shapes, search, 404/400, faults, limits from headers."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import responses

from dlg_bib.errors import SourceError
from dlg_bib.sources.crossref import CrossrefSource, parse_work, strip_markup
from dlg_bib.sources.http import Pacer, SystemClock
from tests.sources_support import (
    CROSSREF_API,
    CROSSREF_HEADERS,
    crossref_body,
    make_client,
)


def source(tmp_path: Path | None = None, workers: int = 1) -> CrossrefSource:
    return CrossrefSource(make_client(tmp_path), url=CROSSREF_API, workers=workers)


def message(name: str) -> dict[str, object]:
    data = json.loads(crossref_body(name))
    assert isinstance(data["message"], dict)
    return data["message"]


def mock_work(doi: str, name: str) -> None:
    responses.get(
        f"{CROSSREF_API}/works/{doi}",
        body=crossref_body(name),
        content_type="application/json",
        headers=CROSSREF_HEADERS,
    )


# ---- shapes ----------------------------------------------------------------------------------


def test_journal_article() -> None:
    work = parse_work(message("work_journal_article_plos.json"))
    assert work.type == "journal-article"
    assert work.container_title == "PLoS ONE"
    assert (work.year, work.month) == (2012, 3)
    assert (work.volume, work.issue, work.pages) == ("7", "3", "e33693")
    assert work.authors[0].family == "Sadasivan" and work.authors[0].given == "Shankar"


def test_jats_abstract_is_plain_text() -> None:
    work = parse_work(message("work_journal_article_jats_abstract.json"))
    assert work.abstract.startswith("We study a small question")
    assert "<" not in work.abstract and "Abstract" not in work.abstract.split()[0]


def test_proceedings_article_with_issued_only_and_null_date() -> None:
    work = parse_work(message("work_proceedings_article_issued_only.json"))
    assert work.type == "proceedings-article"
    assert work.year is None  # issued is [[null]]: no year rather than a wrong one
    assert work.container_title.startswith("23rd International Conference")
    assert work.pages == "877-882"


def test_book_chapter() -> None:
    work = parse_work(message("work_book_chapter.json"))
    assert work.type == "book-chapter"
    assert work.container_title == "Hyperbolic Problems: Theory, Numerics, Applications"
    assert work.isbn == "9783034897426" and work.year == 1999
    assert work.authors[0].given == "François"


def test_article_number_without_page_and_author_without_given() -> None:
    work = parse_work(message("work_article_number_no_page.json"))
    assert work.pages == "" and work.article_number == "16696"
    lone = parse_work(message("work_author_without_given.json"))
    assert lone.authors[0].family == "Stravopodis" and lone.authors[0].given == ""


def test_posted_content_and_relations() -> None:
    preprint = parse_work(message("work_posted_content_is_preprint_of.json"))
    assert preprint.type == "posted-content" and preprint.subtype == "preprint"
    assert preprint.institution == "bioRxiv"
    assert preprint.relations["is-preprint-of"] == ("10.1002/ece3.2314",)
    journal = parse_work(message("work_journal_article_has_preprint.json"))
    assert journal.relations["has-preprint"] == ("10.1101/014852",)


def test_markup_in_titles_and_entities_are_stripped() -> None:
    items = message("search_posted_content_has_preprint.json")["items"]
    assert isinstance(items, list)
    works = {w.doi: w for w in (parse_work(i) for i in items)}
    assert works["10.1111/2041-210x.13501"].title.startswith("A Shiny r app to solve")
    assert works["10.1177/2053951719836258"].container_title == "Big Data & Society"
    assert strip_markup("<i>E. coli</i> &amp; <scp>DNA</scp>") == "E. coli & DNA"


# ---- requests ----------------------------------------------------------------------------------


@responses.activate
def test_work_by_doi(tmp_path: Path) -> None:
    mock_work("10.1371/journal.pone.0033693", "work_journal_article_plos.json")
    crossref = source(tmp_path)
    work = crossref.work("10.1371/journal.pone.0033693")
    assert work is not None and work.doi == "10.1371/journal.pone.0033693"
    assert source(tmp_path).work("10.1371/journal.pone.0033693") == work  # cached
    assert len(responses.calls) == 1


@responses.activate
def test_404_plain_text_means_unknown_and_is_cached(tmp_path: Path) -> None:
    responses.get(
        f"{CROSSREF_API}/works/10.1371/notarealdoi",
        body=crossref_body("works_404_resource_not_found.txt"),
        status=404,
        content_type="text/plain",
        headers=CROSSREF_HEADERS,
    )
    assert source(tmp_path).work("10.1371/notarealdoi") is None
    assert source(tmp_path).work("10.1371/notarealdoi") is None
    assert len(responses.calls) == 1


@responses.activate
def test_400_json_is_reported_with_its_message() -> None:
    responses.get(
        f"{CROSSREF_API}/works/10.1371/journal.pone.0033693",
        body=crossref_body("works_400_validation_failure.json"),
        status=400,
        content_type="application/json;charset=utf-8",
    )
    with pytest.raises(SourceError, match="does not support field query parameters"):
        source().work("10.1371/journal.pone.0033693")


@responses.activate
def test_truncated_json_is_retried_then_an_error_and_not_cached(tmp_path: Path) -> None:
    body = crossref_body("work_journal_article_plos.json")[:500]
    responses.get(f"{CROSSREF_API}/works/10.1371/x", body=body, content_type="application/json")
    with pytest.raises(SourceError, match="not valid JSON"):
        source(tmp_path).work("10.1371/x")
    with pytest.raises(SourceError, match="not valid JSON"):
        source(tmp_path).work("10.1371/x")
    # Three attempts each (a cut-short answer may come whole the next time), none cached.
    assert len(responses.calls) == 6


@responses.activate
def test_a_cut_short_answer_then_a_whole_one_is_used(tmp_path: Path) -> None:
    whole = crossref_body("work_journal_article_plos.json")
    url = f"{CROSSREF_API}/works/10.1371/x"
    responses.get(url, body=whole[:500], content_type="application/json")
    responses.get(url, body=whole, content_type="application/json")
    work = source(tmp_path).work("10.1371/x")
    assert work is not None and work.doi.lower() == "10.1371/journal.pone.0033693"


@responses.activate
def test_wrong_content_type_is_an_error() -> None:
    responses.get(f"{CROSSREF_API}/works/10.1371/x", body="<html></html>", content_type="text/html")
    with pytest.raises(SourceError, match="unexpected content type 'text/html'"):
        source().work("10.1371/x")


@responses.activate
def test_dois_are_percent_encoded_in_the_path() -> None:
    sici = "10.1890/0012-9615(1999)069[0569:EDILSA]2.0.CO;2"
    responses.get(
        f"{CROSSREF_API}/works/10.1890/0012-9615(1999)069%5B0569%3AEDILSA%5D2.0.CO%3B2",
        body=crossref_body("works_404_resource_not_found.txt"),
        status=404,
        content_type="text/plain",
    )
    assert source().work(sici) is None
    assert len(responses.calls) == 1


@responses.activate
def test_search_sends_query_bibliographic_and_parses_items() -> None:
    responses.get(
        f"{CROSSREF_API}/works",
        body=crossref_body("search_elmo.json"),
        content_type="application/json",
        headers=CROSSREF_HEADERS,
        match=[
            responses.matchers.query_param_matcher(
                {"query.bibliographic": "Deep contextualized word representations Peters"},
                strict_match=False,
            )
        ],
    )
    works = source().search("Deep contextualized word representations Peters")
    assert [w.type for w in works] == [
        "posted-content",
        "proceedings-article",
        "proceedings-article",
    ]
    assert responses.calls[0].request.params["rows"] == "5"


# ---- limits ------------------------------------------------------------------------------------


def test_limits_follow_the_headers() -> None:
    crossref = source(workers=4)
    pacer: Pacer = crossref.policy.pacer
    assert (pacer.interval, pacer.concurrency) == (0.2, 1)  # 5 requests/s, one at a time
    assert crossref.policy.adapt is not None
    crossref.policy.adapt(
        pacer,
        {"x-rate-limit-limit": "10", "x-rate-limit-interval": "1s", "x-concurrency-limit": "3"},
    )
    assert (pacer.interval, pacer.concurrency) == (0.1, 3)
    crossref.policy.adapt(pacer, {"x-concurrency-limit": "5"})
    assert pacer.concurrency == 4  # never more than our own workers


@pytest.mark.parametrize("announced", [1, 2])
@responses.activate
def test_concurrency_stays_within_the_announced_limit(announced: int) -> None:
    lock = threading.Lock()
    flight = [0, 0]

    def callback(request):  # type: ignore[no-untyped-def]
        with lock:
            flight[0] += 1
            flight[1] = max(flight[1], flight[0])
        time.sleep(0.01)  # long enough for other threads to try to overlap
        with lock:
            flight[0] -= 1
        headers = {
            "Content-Type": "application/json",
            "x-rate-limit-limit": "1000",
            "x-rate-limit-interval": "1s",
            "x-concurrency-limit": str(announced),
        }
        return 200, headers, crossref_body("work_journal_article_plos.json")

    responses.add_callback(
        responses.GET, f"{CROSSREF_API}/works/10.1371/journal.pone.0033693", callback=callback
    )
    client = make_client(clock=SystemClock(), retries=0)
    crossref = CrossrefSource(client, url=CROSSREF_API, workers=4)
    threads = [
        threading.Thread(target=crossref.work, args=("10.1371/journal.pone.0033693",))
        for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(responses.calls) == 12
    assert 1 <= flight[1] <= announced


@responses.activate
def test_unexpected_record_shapes_are_errors_not_crashes() -> None:
    odd = {"status": "ok", "message-type": "work", "message": {"DOI": "10.1/x", "issued": [1]}}
    responses.get(f"{CROSSREF_API}/works/10.1/x", json=odd)
    with pytest.raises(SourceError, match="unexpected record shape"):
        source().work("10.1/x")

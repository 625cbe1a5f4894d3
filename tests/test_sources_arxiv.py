"""The arXiv source: both Atom formats, batches, pacing, throttling, errors, safe XML."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest
import responses
from responses import matchers

from dlg_bib.errors import SourceError
from dlg_bib.sources.arxiv import ArxivSource, parse_feed
from dlg_bib.sources.http import Mode
from tests.sources_support import ARXIV_API, ATOM, FakeClock, arxiv_body, make_client

XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&lol3;</title></entry></feed>"""


def source(
    tmp_path: Path | None = None, clock: FakeClock | None = None, **kw: object
) -> ArxivSource:
    client = make_client(tmp_path, clock=clock or FakeClock(), **kw)  # type: ignore[arg-type]
    return ArxivSource(client, url=ARXIV_API, delay=3.0)


def ids_param(ids: str) -> matchers.Any:
    return matchers.query_param_matcher(
        {"id_list": ids, "start": "0", "max_results": str(len(ids.split(",")))}
    )


# ---- parsing both formats ----------------------------------------------------------------


def test_legacy_format_with_doi_journal_ref_and_wrapped_title() -> None:
    [record] = parse_feed(arxiv_body("legacy_1710.08557_doi_journalref.xml"))
    assert record.arxiv_id == "1710.08557" and record.version == "v1"
    assert record.title == (
        "On Neuromechanical Approaches for the Study of Biological Grasp and Manipulation"
    )
    assert record.doi == "10.1186/s12984-017-0305-3"
    assert record.journal_ref.startswith("Journal of NeuroEngineering")
    assert record.primary_category == "cs.RO"  # inline namespace declaration
    assert record.authors == ("Francisco J Valero-Cuevas", "Marco Santello")
    assert record.published == "2017-10-24" and record.year == "2017" and record.month == 10
    assert "\n" not in record.summary and record.summary.startswith("We study")


def test_new_format_with_non_ascii_authors() -> None:
    [record] = parse_feed(arxiv_body("new_1707.08567_nonascii.xml"))
    assert len(record.authors) == 34
    assert "Dirk Wübben" in record.authors
    assert record.comment.startswith("44 pages")
    assert record.doi == "" and record.journal_ref == ""


def test_old_style_ids_and_msc_categories() -> None:
    [record] = parse_feed(arxiv_body("legacy_math-0211159_oldstyle.xml"))
    assert record.arxiv_id == "math/0211159"
    assert "53C" in record.categories and record.primary_category == "math.DG"
    [versioned] = parse_feed(arxiv_body("new_quant-ph_0201082v1_versioned.xml"))
    assert (versioned.arxiv_id, versioned.version) == ("quant-ph/0201082", "v1")


@pytest.mark.parametrize(
    "name", ["new_error_abc_http400.xml", "legacy_error_INVALIDID_http400.xml"]
)
def test_error_feed_is_an_error_not_a_result(name: str) -> None:
    with pytest.raises(SourceError, match="incorrect id format"):
        parse_feed(arxiv_body(name))


def test_xml_bomb_is_rejected() -> None:
    with pytest.raises(SourceError, match="unsafe XML"):
        parse_feed(XML_BOMB)


def test_empty_feed_has_no_records() -> None:
    assert parse_feed(arxiv_body("new_empty_feed.xml")) == []


# ---- fetching ------------------------------------------------------------------------------


@responses.activate
def test_batch_results_are_keyed_by_id_and_missing_ids_reported() -> None:
    responses.get(
        ARXIV_API,
        body=arxiv_body("new_batch_one_id_missing.xml"),
        content_type=ATOM,
        match=[ids_param("0808.05394,1707.08567")],
    )
    result = source().fetch(["0808.05394", "1707.08567"])
    assert set(result.records) == {"1707.08567"}
    assert result.missing == {"0808.05394"}
    assert not result.failed


@responses.activate
def test_versioned_old_style_ids_are_sent_as_given() -> None:
    responses.get(
        ARXIV_API,
        body=arxiv_body("new_quant-ph_0201082v1_versioned.xml"),
        content_type=ATOM,
        match=[ids_param("quant-ph/0201082v1")],
    )
    arxiv = source()
    assert arxiv.fetch(["quant-ph/0201082v1"]).records["quant-ph/0201082v1"].version == "v1"


@responses.activate
def test_error_feed_with_http_400_fails_the_batch() -> None:
    responses.get(
        ARXIV_API, body=arxiv_body("new_error_abc_http400.xml"), status=400, content_type=ATOM
    )
    result = source().fetch(["1605.08386"])
    assert "incorrect id format" in result.failed["1605.08386"]
    assert len(responses.calls) == 1  # a 400 is final: not retried


@responses.activate
def test_empty_feed_means_missing(tmp_path: Path) -> None:
    responses.get(ARXIV_API, body=arxiv_body("new_empty_feed.xml"), content_type=ATOM)
    arxiv = source(tmp_path)
    assert arxiv.fetch(["0000.00000"]).missing == {"0000.00000"}
    assert arxiv.fetch(["0000.00000"]).missing == {"0000.00000"}  # from the cache
    assert len(responses.calls) == 1


@pytest.mark.parametrize("status", [429, 200])
@responses.activate
def test_rate_exceeded_is_retried_after_a_pause(status: int) -> None:
    responses.get(ARXIV_API, body="Rate exceeded.", status=status, content_type="text/plain")
    responses.get(ARXIV_API, body=arxiv_body("new_1605.08386_single.xml"), content_type=ATOM)
    clock = FakeClock()
    result = source(clock=clock).fetch(["1605.08386"])
    assert result.records["1605.08386"].title == "Heat-bath random walks with Markov bases"
    assert len(responses.calls) == 2
    assert clock.now >= 5.0  # backed off for several seconds


@responses.activate
def test_xml_bomb_fails_the_batch_and_is_not_cached(tmp_path: Path) -> None:
    responses.get(ARXIV_API, body=XML_BOMB, content_type=ATOM)
    arxiv = source(tmp_path)
    assert "unsafe XML" in arxiv.fetch(["1605.08386"]).failed["1605.08386"]
    assert "unsafe XML" in arxiv.fetch(["1605.08386"]).failed["1605.08386"]
    assert len(responses.calls) == 2


@responses.activate
def test_wrong_content_type_fails_the_batch() -> None:
    responses.get(ARXIV_API, body="<html>maintenance</html>", content_type="text/html")
    result = source().fetch(["1605.08386"])
    assert "unexpected content type 'text/html'" in result.failed["1605.08386"]


# ---- batching, pacing, caching ---------------------------------------------------------------


def _feed_for(ids: list[str]) -> str:
    template = arxiv_body("new_1605.08386_single.xml").decode("utf-8")
    head, _, rest = template.partition("  <entry>")
    entry, _, tail = rest.partition("</entry>")
    entries = "".join(
        "  <entry>" + entry.replace("1605.08386", i) + "</entry>\n" for i in reversed(ids)
    )
    return head + entries + tail.lstrip("\n")


def _paced_callback(clock: FakeClock, starts: list[float], flight: list[int]):  # type: ignore[no-untyped-def]
    lock = threading.Lock()

    def callback(request):  # type: ignore[no-untyped-def]
        with lock:
            flight[0] += 1
            flight[1] = max(flight[1], flight[0])
            starts.append(clock.monotonic())
        time.sleep(0.005)  # give another thread the chance to overlap, if it could
        ids = request.params["id_list"].split(",")
        assert request.params["max_results"] == str(len(ids))
        with lock:
            flight[0] -= 1
        return 200, {"Content-Type": ATOM}, _feed_for(ids)

    return callback


@responses.activate
def test_250_ids_take_3_paced_requests_and_a_second_run_none(tmp_path: Path) -> None:
    clock = FakeClock()
    starts: list[float] = []
    flight = [0, 0]
    responses.add_callback(
        responses.GET, ARXIV_API, callback=_paced_callback(clock, starts, flight)
    )
    ids = [f"2101.{n:05d}" for n in range(1, 251)]
    result = source(tmp_path, clock=clock).fetch(ids)
    assert len(result.records) == 250 and not result.failed and not result.missing
    sizes = [len(c.request.params["id_list"].split(",")) for c in responses.calls]
    assert sizes == [100, 100, 50]
    assert [b - a for a, b in itertools.pairwise(starts)] == [3.0, 3.0]
    again = source(tmp_path, clock=clock).fetch(ids)
    assert len(again.records) == 250
    assert len(responses.calls) == 3  # all from the cache


@responses.activate
def test_arxiv_requests_are_never_concurrent_and_always_spaced() -> None:
    clock = FakeClock()
    starts: list[float] = []
    flight = [0, 0]
    responses.add_callback(
        responses.GET, ARXIV_API, callback=_paced_callback(clock, starts, flight)
    )
    arxiv = source(clock=clock)
    threads = [threading.Thread(target=arxiv.fetch, args=([f"2102.{n:05d}"],)) for n in range(1, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(starts) == 5
    assert flight[1] == 1
    ordered = sorted(starts)
    assert all(b - a >= 3.0 for a, b in itertools.pairwise(ordered))


@responses.activate
def test_offline_uses_only_the_cache(tmp_path: Path) -> None:
    responses.get(ARXIV_API, body=arxiv_body("new_1605.08386_single.xml"), content_type=ATOM)
    source(tmp_path).fetch(["1605.08386"])
    offline = source(tmp_path, mode=Mode.OFFLINE)
    assert "1605.08386" in offline.fetch(["1605.08386"]).records
    assert "--offline" in offline.fetch(["1707.08567"]).failed["1707.08567"]
    assert len(responses.calls) == 1

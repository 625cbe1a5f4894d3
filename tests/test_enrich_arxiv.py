"""arXiv ids as people write them (enrich/arxiv.py): read before the source is asked, the
answers given back under the ids as written."""

from __future__ import annotations

import responses

from dlg_bib.enrich import arxiv
from tests.sources_support import ARXIV_API, ATOM, arxiv_body
from tests.test_sources_arxiv import ids_param, source


@responses.activate
def test_results_out_of_order_map_back_to_their_ids() -> None:
    responses.get(
        ARXIV_API,
        body=arxiv_body("new_batch_three.xml"),
        content_type=ATOM,
        match=[ids_param("1706.03762,1802.05365,1910.03193")],
    )
    requested = ["arXiv:1706.03762", "https://arxiv.org/abs/1802.05365", "1910.03193"]
    result = arxiv.fetch(source(), requested)
    assert result.records["arXiv:1706.03762"].title == "Attention Is All You Need"
    assert result.records["https://arxiv.org/abs/1802.05365"].arxiv_id == "1802.05365"
    assert result.records["1910.03193"].doi == "10.1038/s42256-021-00302-5"


@responses.activate
def test_subject_class_ids_are_sent_canonically() -> None:
    responses.get(
        ARXIV_API,
        body=arxiv_body("legacy_math-0211159_oldstyle.xml"),
        content_type=ATOM,
        match=[ids_param("math/0211159")],
    )
    assert "math.DG/0211159" in arxiv.fetch(source(), ["math.DG/0211159"]).records


@responses.activate
def test_malformed_ids_are_refused_locally() -> None:
    result = arxiv.fetch(source(), ["abc", "not/an-id"])
    assert set(result.failed) == {"abc", "not/an-id"}
    assert len(responses.calls) == 0

"""The merge policy (pure) and `dlg-bib enrich` end to end against mocked sources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result

from dlg_bib.bibtex import values
from dlg_bib.cli import cli
from dlg_bib.enrich import merge
from dlg_bib.enrich.merge import Evidence
from dlg_bib.errors import UnknownKeyError
from dlg_bib.library.database import open_workspace
from dlg_bib.library.model import Entry
from dlg_bib.sources.arxiv import parse_feed
from dlg_bib.sources.crossref import parse_work
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


def work(name: str):  # type: ignore[no-untyped-def]
    return parse_work(json.loads(crossref_body(name))["message"])


def record(name: str, arxiv_id: str):  # type: ignore[no-untyped-def]
    return next(r for r in parse_feed(arxiv_body(name)) if r.arxiv_id == arxiv_id)


def search_item(name: str, doi: str):  # type: ignore[no-untyped-def]
    items = json.loads(crossref_body(name))["message"]["items"]
    return parse_work(next(i for i in items if i["DOI"] == doi))


def entry(key: str, entry_type: str = "misc", **fields: str) -> Entry:
    return Entry(key, entry_type, {k: values.braced(v) for k, v in fields.items()})


# ---- escaping remote text -------------------------------------------------------------------


def test_plain_text_specials_are_escaped() -> None:
    assert merge.escape_plain("R&D: 50% of #1_x $5 ~ ^") == (
        r"R\&D: 50\% of \#1\_x \$5 \textasciitilde{} \textasciicircum{}"
    )


def test_non_ascii_is_written_in_braced_latex() -> None:
    assert merge.escape_plain("Dirk Wübben") == r"Dirk W{\"u}bben"
    assert merge.escape_plain("Łukasz Kaiser, José") == r"{\L}ukasz Kaiser, Jos{\'e}"


def test_a_hostile_title_cannot_break_the_bib() -> None:
    hostile = "Evil }} title,\n  note = {x}} @misc{pwned, \\end{document}"
    raw = values.braced(merge.escape_plain(hostile))
    fields = {"title": raw, "author": "{A. Author}", "year": "{2020}"}
    assert merge.check_fields("safe2020evil", "misc", fields) == []
    assert "\\textbraceright{}" in raw and "@misc" in raw  # text, not a new entry


def test_arxiv_tex_keeps_math_and_escapes_text_specials() -> None:
    assert merge.escape_tex(r"Bounds for $\ell_1$ & $O(n^2)$ at 5%") == (
        r"Bounds for $\ell_1$ \& $O(n^2)$ at 5\%"
    )
    # One escaping rule with exports: a URL's `_` is not escaped, a bare one is.
    assert merge.escape_tex(r"code at \url{https://x.org/a_b} & more_x") == (
        r"code at \url{https://x.org/a_b} \& more\_x"
    )
    # Odd dollars or unbalanced braces: no TeX trusted, everything escaped.
    assert merge.escape_tex("costs $5 {") == r"costs \$5 \textbraceleft{}"


def test_pages_use_double_hyphens() -> None:
    assert merge.format_pages("635–641") == "635--641"
    assert merge.format_pages("5998 - 6008") == "5998--6008"


# ---- merging ---------------------------------------------------------------------------------


def test_fills_missing_fields_and_never_clobbers() -> None:
    curated = entry("sadasivan2012", "article", title="Short title", year="2011")
    change = merge.plan(curated, Evidence("x", work=work("work_journal_article_plos.json")))
    added = {c.name: c.new for c in change.changes}
    assert added["pages"] == "{e33693}" and added["volume"] == "{7}" and added["month"] == "mar"
    assert "title" not in added and "year" not in added
    disagreements = {d.name: (d.ours, d.theirs) for d in change.disagreements}
    assert disagreements["year"] == ("2011", "2012")
    assert disagreements["title"][0] == "Short title"


def test_overwrite_replaces_named_fields_only() -> None:
    curated = entry("sadasivan2012", "article", title="Short title", year="2011")
    evidence = Evidence("x", work=work("work_journal_article_plos.json"))
    change = merge.plan(curated, evidence, frozenset({"title"}))
    replaced = {c.name: (c.old, c.new) for c in change.changes if c.old}
    assert replaced["title"][0] == "{Short title}"
    assert replaced["title"][1].startswith("{Methylphenidate Exposure")
    assert "year" not in replaced


def test_same_value_written_differently_is_no_disagreement() -> None:
    curated = entry(
        "x",
        "article",
        title="Methylphenidate exposure induces dopamine neuron loss and "
        "activation of microglia in the basal ganglia of mice",
        pages="e33693",
        year="2012",
        doi="https://doi.org/10.1371/JOURNAL.PONE.0033693",
    )
    change = merge.plan(curated, Evidence("x", work=work("work_journal_article_plos.json")))
    assert not [d for d in change.disagreements if d.name != "author"]


def test_published_version_found_by_search_upgrades_the_preprint() -> None:
    preprint = Entry(
        "peters2018deep",
        "article",
        {
            "author": "{Peters, Matthew E. and Neumann, Mark}",
            "title": "{Deep contextualized word representations}",
            "journal": "{arXiv preprint arXiv:1802.05365}",
            "year": "2018",
        },
    )
    published = search_item("search_elmo.json", "10.18653/v1/n18-1202")
    evidence = Evidence(
        "peters2018deep",
        arxiv=record("new_1802.05365_elmo.xml", "1802.05365"),
        published=published,
        published_via="Crossref search",
    )
    change = merge.plan(preprint, evidence)
    assert change.new_type == "inproceedings"
    fields = merge.merged(preprint, change)
    assert "journal" not in fields  # the placeholder goes, the arXiv fields stay
    assert fields["booktitle"].startswith("{Proceedings of the 2018 Conference")
    assert fields["doi"] == "{10.18653/v1/n18-1202}" and fields["pages"] == "{2227--2237}"
    assert fields["eprint"] == "{1802.05365}" and fields["archiveprefix"] == "{arXiv}"
    assert "month" not in fields  # the preprint's month is not the paper's
    assert change.published_via == "Crossref search" and not change.problems


def test_published_version_replaces_the_preprint_year() -> None:
    preprint = entry("lu2019deeponet", year="2019", url="https://arxiv.org/abs/1910.03193")
    evidence = Evidence(
        "lu2019deeponet",
        arxiv=record("new_1910.03193_deeponet_doi.xml", "1910.03193"),
        published=work("work_10.1038_s42256-021-00302-5.json"),
        published_via="arXiv's doi",
    )
    change = merge.plan(preprint, evidence)
    fields = merge.merged(preprint, change)
    assert change.new_type == "article"
    assert fields["year"] == "{2021}" and fields["journal"] == "{Nature Machine Intelligence}"
    assert fields["eprint"] == "{1910.03193}"  # from the journal's has-preprint relation


def test_crossref_relation_upgrades_a_posted_content_preprint() -> None:
    preprint = entry("williams2015games", doi="10.1101/014852", year="2015")
    evidence = Evidence(
        "williams2015games",
        work=work("work_posted_content_is_preprint_of.json"),
        published=work("work_journal_article_has_preprint.json"),
        published_via="Crossref relation is-preprint-of (the entry's DOI)",
    )
    change = merge.plan(preprint, evidence)
    fields = merge.merged(preprint, change)
    assert change.new_type == "article"
    assert fields["doi"] == "{10.1002/ece3.2314}" and fields["year"] == "{2016}"
    assert "howpublished" not in fields  # bioRxiv's record gives way to the journal's


def test_strict_match_rejects_near_misses() -> None:
    published = search_item("search_elmo.json", "10.18653/v1/n18-1202")
    families = ["peters", "neumann"]
    title = "Deep contextualized word representations"
    assert merge.strict_match(title, families, "2018", published)
    assert not merge.strict_match(
        "Deep contextual word representations", families, "2018", published
    )
    assert not merge.strict_match(title, ["smith", "jones"], "2018", published)
    assert not merge.strict_match(title, families, "2009", published)
    redeposit = search_item("search_attention_trap.json", "10.65215/nxvz2v36")
    assert not merge.is_published_kind(redeposit)


def test_malformed_merge_is_refused() -> None:
    problems = merge.check_fields("x2020y", "misc", {"title": "{unbalanced {brace}"})
    assert problems and "unbalanced" in problems[0]
    assert merge.check_fields("bad key", "misc", {"title": "{t}"}) == ["invalid key 'bad key'"]


# ---- the command -------------------------------------------------------------------------------


def _search(request):  # type: ignore[no-untyped-def]
    query = request.params["query.bibliographic"]
    headers = {"Content-Type": "application/json", **CROSSREF_HEADERS}
    if "contextualized" in query:
        return 200, headers, crossref_body("search_elmo.json")
    if "Attention" in query:
        return 200, headers, crossref_body("search_attention_trap.json")
    empty = {"status": "ok", "message-type": "work-list", "message": {"items": []}}
    return 200, headers, json.dumps(empty)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_dblp_and_free_copy_sources(rsps)
        rsps.get(ARXIV_API, body=arxiv_body("new_batch_three.xml"), content_type=ATOM)
        rsps.add_callback("GET", f"{CROSSREF_API}/works", callback=_search)
        for doi, name in [
            ("10.1371/journal.pone.0033693", "work_journal_article_plos.json"),
            ("10.1038/s42256-021-00302-5", "work_10.1038_s42256-021-00302-5.json"),
        ]:
            rsps.get(
                f"{CROSSREF_API}/works/{doi}",
                body=crossref_body(name),
                content_type="application/json",
                headers=CROSSREF_HEADERS,
            )
        yield rsps


@pytest.fixture
def bib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_enrich_database(tmp_path, monkeypatch)


def run(bib: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--bib", str(bib), "enrich", *args])


def blocks(path: Path) -> dict[str, str]:
    workspace = open_workspace(path)
    return {
        (b.entry.key if b.entry else f"#{i}"): b.raw
        for i, b in enumerate(workspace.files[0].blocks)
    }


def test_enrich_writes_only_changed_entries(bib: Path, mocked: responses.RequestsMock) -> None:
    before = blocks(bib)
    text_before = (bib / "references.bib").read_text()
    result = run(bib)
    assert result.exit_code == 0, result.output
    after = blocks(bib)
    # A placeholder is never sent to the sources, nor given a free-copy note: no work yet.
    assert after["unknown2021ref5"] == before["unknown2021ref5"]
    assert after["#1"] == before["#1"]  # the @string block
    text_after = (bib / "references.bib").read_text()
    assert text_after.startswith(text_before.split("\n", 1)[0])  # the comment line
    db = open_workspace(bib).db
    peters = db.find("peters2018deep")
    assert peters is not None and peters.entry_type == "inproceedings"
    assert peters.get("doi") == "10.18653/v1/n18-1202" and peters.get("eprint") == "1802.05365"
    curated = db.find("sadasivan2012methylphenidate")
    assert curated is not None
    assert curated.get("title") == "Methylphenidate exposure induces dopamine neuron loss"
    assert curated.get("dlg-note").startswith("Curated by hand")
    assert curated.get("pages") == "e33693"
    assert "! year: database '2011', Crossref '2012'" in result.output
    assert "+ booktitle = {Proceedings of the 2018" in result.output
    # Unconfirmed: Crossref's hit is a trap, dblp has no such title; the reason is listed.
    assert (
        "vaswani2017attention: no match in dblp: dblp has no record of this title "
        "(arXiv journal_ref 'Advances in Neural Information Processing Systems 30 (NIPS 2017)')"
    ) in result.output
    assert "published version confirmed via arXiv's doi" in result.output


def test_second_run_sends_nothing_and_offline_works(
    bib: Path, mocked: responses.RequestsMock
) -> None:
    assert run(bib).exit_code == 0
    sent = len(mocked.calls)
    # 1 arXiv batch + 2 Crossref searches + 2 DOIs + 1 dblp title query (the unconfirmed
    # preprint) + OpenAlex and Unpaywall for the 3 entries with a Crossref DOI.
    assert sent == 12
    again = run(bib)
    assert again.exit_code == 0 and "requests sent: none" in again.output
    assert len(mocked.calls) == sent
    offline = run(bib, "--offline")
    assert offline.exit_code == 0 and len(mocked.calls) == sent
    refresh = run(bib, "--refresh", "lu2019deeponet")
    assert refresh.exit_code == 0 and len(mocked.calls) == sent + 2


def test_dry_run_writes_nothing(bib: Path, mocked: responses.RequestsMock) -> None:
    before = (bib / "references.bib").read_bytes()
    result = run(bib, "--dry-run")
    assert result.exit_code == 0
    assert "would change" in result.output and "+ pages = {e33693}" in result.output
    assert (bib / "references.bib").read_bytes() == before


def test_one_failure_does_not_stop_the_others(
    bib: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dlg_bib.sources.http.SystemClock.sleep", lambda self, seconds: None)
    mocked.replace(
        responses.GET,
        f"{CROSSREF_API}/works/10.1371/journal.pone.0033693",
        status=500,
        body="Internal error",
    )
    result = run(bib)
    assert result.exit_code == 1
    assert "sadasivan2012methylphenidate: crossref: server error (HTTP 500)" in result.output
    db = open_workspace(bib).db
    failed = db.find("sadasivan2012methylphenidate")
    assert failed is not None and not failed.has("pages")  # nothing written for it
    peters = db.find("peters2018deep")
    assert peters is not None and peters.has("booktitle")


def test_selected_keys_and_unknown_keys(bib: Path, mocked: responses.RequestsMock) -> None:
    result = run(bib, "--overwrite", "title", "sadasivan2012methylphenidate")
    assert result.exit_code == 0
    assert "1 entries, 1 changed" in result.output
    db = open_workspace(bib).db
    curated = db.find("sadasivan2012methylphenidate")
    assert curated is not None and curated.get("title").startswith("Methylphenidate Exposure")
    unknown = run(bib, "nosuchkey")
    assert isinstance(unknown.exception, UnknownKeyError)  # main() turns it into exit 1


def test_offline_and_refresh_exclude_each_other(bib: Path) -> None:
    assert run(bib, "--offline", "--refresh").exit_code == 2


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlg_bib.cli import enrich as enrich_cli

    with enrich_cli.progress(10, "enrich") as bar:
        assert bar is None  # pytest captures stderr: not a terminal
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    with enrich_cli.progress(10, "enrich") as bar:
        assert bar is not None


def test_contact_address_from_environment_or_group_toml(
    bib: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlg_bib.enrich import setup

    assert setup.contact_address(bib / "group.toml") == "dlg-tests@example.org"
    assert run(bib, "sadasivan2012methylphenidate").exit_code == 0
    agent = mocked.calls[0].request.headers["User-Agent"]
    assert "mailto:dlg-tests@example.org" in agent
    assert "https://github.com/dr-aheydari/DeepLearningGroup" in agent
    monkeypatch.setenv("DLG_BIB_MAILTO", "other@example.org")
    assert setup.contact_address(bib / "group.toml") == "other@example.org"


@responses.activate
def test_resolver_follows_is_preprint_of_from_the_entry_doi(tmp_path: Path) -> None:
    from dlg_bib.enrich.resolver import Resolver
    from dlg_bib.sources.crossref import CrossrefSource
    from tests.sources_support import make_client

    for doi, name in [
        ("10.1101/014852", "work_posted_content_is_preprint_of.json"),
        ("10.1002/ece3.2314", "work_journal_article_has_preprint.json"),
    ]:
        responses.get(
            f"{CROSSREF_API}/works/{doi}", body=crossref_body(name), content_type="application/json"
        )
    resolver = Resolver(None, CrossrefSource(make_client(tmp_path), url=CROSSREF_API))
    evidence = resolver.resolve(entry("williams2015games", doi="10.1101/014852", year="2015"))
    assert evidence.published is not None and evidence.published.doi == "10.1002/ece3.2314"
    assert evidence.published_via == "Crossref relation is-preprint-of (the entry's DOI)"
    assert not evidence.failures and not evidence.unconfirmed


def test_malformed_merged_entries_are_not_written(
    bib: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (bib / "references.bib").read_bytes()
    monkeypatch.setattr(merge, "escape_tex", lambda text: "{" + text)  # a broken encoder
    result = run(bib, "vaswani2017attention")
    assert result.exit_code == 1
    assert "vaswani2017attention: not written: abstract: unbalanced braces" in result.output
    assert (bib / "references.bib").read_bytes() == before


def test_a_further_finder_can_confirm_a_published_version() -> None:
    """The door left open for dblp/OpenAlex: a finder answering a Proposal of its own."""
    from dlg_bib.enrich.resolver import Query, Resolver

    class VenueFinder:
        name = "a test finder"

        def find(self, query: Query) -> merge.Proposal | None:
            proposal = merge.Proposal("test source", "inproceedings")
            proposal.put(
                "booktitle", "Advances in Neural Information Processing Systems", "NeurIPS"
            )
            proposal.put("year", "2017", "2017")
            return proposal if query.families[0] == "vaswani" else None

    preprint = entry(
        "vaswani2017attention",
        author="Vaswani, Ashish",
        title="Attention Is All You Need",
        year="2017",
        eprint="1706.03762",
        archiveprefix="arXiv",
    )
    evidence = Resolver(None, None, finders=[VenueFinder()]).resolve(preprint)
    change = merge.plan(preprint, evidence)
    assert change.new_type == "inproceedings" and change.published_via == "a test finder"
    assert merge.merged(preprint, change)["booktitle"].startswith("{Advances in Neural")


def test_dblp_confirms_what_arxiv_and_crossref_could_not(
    bib: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order of the published-version sources: arXiv's journal_ref alone is not enough,
    Crossref's search offers a trap (rejected), then dblp (a local stub) confirms."""
    from tests.dblp_stub_server import DblpStubServer

    monkeypatch.setattr("dlg_bib.sources.http.SystemClock.sleep", lambda self, seconds: None)
    with DblpStubServer() as server:
        mocked.add_passthru(server.api_url)
        monkeypatch.setenv("DLG_BIB_DBLP_SPARQL", server.sparql_url)
        monkeypatch.setenv("DLG_BIB_DBLP_API", server.api_url)
        result = run(bib)
    assert result.exit_code == 0, result.output
    assert "published version confirmed via dblp (conf/nips/VaswaniSPUJGKP17)" in result.output
    assert "0 preprints unconfirmed" in result.output
    vaswani = open_workspace(bib).db.find("vaswani2017attention")
    assert vaswani is not None and vaswani.entry_type == "inproceedings"
    assert vaswani.get("booktitle") == "Advances in Neural Information Processing Systems"
    assert vaswani.get("volume") == "30" and vaswani.get("eprint") == "1706.03762"
    assert vaswani.get("year") == "2017" and not vaswani.has("doi")
    peters = open_workspace(bib).db.find("peters2018deep")
    assert peters is not None and peters.get("doi")  # Crossref's, dblp not needed
    assert server.hits["/sparql"] == 2  # title range + records, for Vaswani et al. only


def test_abstracts_come_from_arxiv_only() -> None:
    # arXiv's descriptive metadata is CC0; publishers keep the copyright of the abstracts
    # they deposit with Crossref, and bib/ is published.
    (record,) = parse_feed(arxiv_body("new_1706.03762_attention.xml"))
    assert record.summary and "abstract" in merge.arxiv_proposal(record).values
    message = json.loads(crossref_body("work_journal_article_jats_abstract.json"))["message"]
    work = parse_work(message)
    assert work.abstract
    assert "abstract" not in merge.crossref_proposal(work).values

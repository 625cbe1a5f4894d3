"""Choosing what an export holds: sessions, topics, keys, aliases, .aux, crossref parents."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlg_bib.errors import UnknownNameError
from dlg_bib.export.select import Criteria, Uncitable, select
from dlg_bib.library.database import open_database
from dlg_bib.library.model import Database
from tests.conftest import FIXTURES

DB = FIXTURES / "export" / "db"
AUX = FIXTURES / "export" / "aux"


@pytest.fixture(scope="module")
def db() -> Database:
    return open_database(DB)


def keys(db: Database, criteria: Criteria) -> list[str]:
    return [e.key for e in select(db, criteria).entries]


def test_everything_but_placeholders_by_default(db: Database) -> None:
    chosen = keys(db, Criteria())
    assert len(chosen) == len(db.entries) - 1
    assert "ref5placeholder" not in chosen
    assert "ref5placeholder" in keys(db, Criteria(include_placeholders=True))


def test_crossref_parent_comes_along_and_after_its_children(db: Database) -> None:
    chosen = keys(db, Criteria(keys=["goodfellow2016deep-ch6", "aliprantis2006infinite"]))
    assert chosen == ["aliprantis2006infinite", "goodfellow2016deep-ch6", "goodfellow2016deep"]
    whole = keys(db, Criteria())
    assert whole[-1] == "goodfellow2016deep"
    assert whole[:-1] == sorted(whole[:-1], key=str.lower)


def test_session_and_topic_selections_add_up(db: Database) -> None:
    session = keys(db, Criteria(sessions=["2021-11-12"]))
    assert session == ["devlin2019bert", "pennington2014glove", "vaswani2017attention"]
    topic = keys(db, Criteria(topics=["nlp"]))
    assert set(session) < set(topic) and "radford2019language" in topic
    both = keys(db, Criteria(sessions=["2021-11-12"], keys=["tikk2003survey"]))
    assert both == [*session[:2], "tikk2003survey", session[2]]


def test_session_readings_skip_placeholders(db: Database) -> None:
    assert keys(db, Criteria(sessions=["2021-10-01"])) == ["pekalska2006noneuclidean"]


def test_keys_resolve_case_aliases_and_legacy_labels(db: Database) -> None:
    chosen = keys(db, Criteria(keys=["VASWANI2017attention", "vaswani2017", "Ref 8", "ref1"]))
    assert chosen == ["ruder2016overview", "tikk2003survey", "vaswani2017attention"]


def test_unknown_keys_and_placeholders_are_reported(db: Database) -> None:
    selection = select(db, Criteria(keys=["nope", "tikk2003survey", "Ref 5", "nope"]))
    assert [e.key for e in selection.entries] == ["tikk2003survey"]
    assert selection.unknown == ["nope"]
    assert selection.placeholders == ["Ref 5"]
    assert not selection.complete


def test_aux_selection_with_includes(db: Database) -> None:
    selection = select(db, Criteria(aux_files=[AUX / "bibtex-paper.aux"]))
    assert [e.key for e in selection.entries] == [
        "devlin2019bert",
        "goodfellow2016deep-ch5",
        "lu2021deeponet",
        "pennington2014glove",
        "tikk2003survey",
        "vaswani2017attention",
        "goodfellow2016deep",
    ]
    assert selection.unknown == ["nosuchkey2020"]
    assert selection.missing_aux == [AUX / "chapters" / "missing.aux"]


def test_aux_nocite_all_selects_everything(db: Database) -> None:
    assert keys(db, Criteria(aux_files=[AUX / "biber-nocite-all.aux"])) == keys(db, Criteria())


def test_unknown_session_or_topic_is_a_usage_error(db: Database) -> None:
    with pytest.raises(UnknownNameError, match="2030-01-01"):
        select(db, Criteria(sessions=["2030-01-01"]))
    with pytest.raises(UnknownNameError) as info:
        select(db, Criteria(topics=["astrology"]))
    assert info.value.hint and "uat" in info.value.hint


def test_aux_citing_a_legacy_label_is_reported_with_the_key_to_use(
    db: Database, tmp_path: Path
) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text("\\relax\n\\citation{tikk2003survey}\n\\citation{Ref 8}\n")
    selection = select(db, Criteria(aux_files=[aux], keys=["Ref 1"]))
    assert [e.key for e in selection.entries] == ["ruder2016overview", "tikk2003survey"]
    # "Ref 1" given on the command line is fine: only a paper's \cite must be a real key.
    assert selection.uncitable == [
        Uncitable(f"{aux}:3", "Ref 8", "ruder2016overview", "legacy label")
    ]

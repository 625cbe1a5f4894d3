"""The handout: golden Typst source and data, PDF text, determinism, hostile text, errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlg_bib.cli import cli
from dlg_bib.errors import TemplateError, UnknownNameError
from dlg_bib.library.database import open_database
from dlg_bib.render import handout

REPO = Path(__file__).parent.parent
SHIPPED = REPO / "bib"
FIXTURES = Path(__file__).parent / "fixtures" / "render"
DB = FIXTURES / "db"
GOLDEN = FIXTURES / "golden"
TODAY = dt.date(2030, 1, 20)


def _build(**options: object) -> handout.Handout:
    return handout.build_handout(open_database(DB), DB, TODAY, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def session_handout() -> handout.Handout:
    return _build()


@pytest.fixture(scope="module")
def term_handout() -> handout.Handout:
    return _build(term=True)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_golden_source_and_data(
    session_handout: handout.Handout, term_handout: handout.Handout
) -> None:
    _golden("handout-session.typ", session_handout.source.source)
    _golden("handout-session.json", session_handout.source.data)
    _golden("handout-term.typ", term_handout.source.source)


def test_default_is_the_next_session_else_the_latest() -> None:
    db = open_database(DB)
    assert handout.choose_sessions(db, TODAY, None, False)[0] == "2030-01-24"
    assert handout.choose_sessions(db, dt.date(2031, 1, 1), None, False)[0] == "2030-01-31"
    assert handout.choose_sessions(db, TODAY, "2030-01-10", False)[0] == "2030-01-10"
    assert len(handout.choose_sessions(db, TODAY, None, True)[1]) == 4
    with pytest.raises(UnknownNameError, match="no session on 2029-01-01"):
        handout.choose_sessions(db, TODAY, "2029-01-01", False)


def test_data_never_enters_the_typst_source(session_handout: handout.Handout) -> None:
    source = session_handout.source.source
    for hostile in ("/etc/passwd", "<script>", "javascript:", "Reading Group"):
        assert hostile not in source
    assert '"title": "Attention <script>alert(1)</script>"' in session_handout.source.data


def test_pdf_is_deterministic(session_handout: handout.Handout) -> None:
    assert session_handout.pdf.startswith(b"%PDF")
    assert _build().pdf == session_handout.pdf


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing in CI (.ci/run installs poppler-utils)")
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "h.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    return " ".join(result.stdout.split())


def test_session_pdf_text(session_handout: handout.Handout, tmp_path: Path) -> None:
    text = _pdftotext(session_handout.pdf, tmp_path)
    assert "Attention <script>alert(1)</script>" in text
    assert "Date: Thursday, January 24, 2030" in text
    assert "Room: ACS 362B" in text
    assert "Meta-topic: Language | Models" in text
    assert "Main reading" in text and "Also read" in text and "Background" in text
    assert "arxiv.org/pdf/1706.03762" in text  # the free copy, printed short
    assert "Your notes" in text  # ruled space for the reading time
    assert "[x](javascript:alert(1))" in text
    assert "ℓ_1" in text
    assert "See [x](javascript:alert(1)) and http://example.org/notes" in text


def test_abstract_and_hostile_titles_in_the_term_pdf(
    term_handout: handout.Handout, tmp_path: Path
) -> None:
    text = _pdftotext(term_handout.pdf, tmp_path)
    for title in ('#import "/etc/passwd"', r"\input{/etc/passwd}", "a | b", "Bibliography"):
        assert title in text, title
    first = _build(session="2030-01-10")
    main = _pdftotext(first.pdf, tmp_path)
    abstract = json.loads(first.source.data)["sessions"][0]["main"][0]["abstract"]
    assert len(abstract) > 1900
    assert "Abstract. " + abstract in main  # all of it, as text


def test_pdf_links_are_http_only(term_handout: handout.Handout) -> None:
    import re

    uris = re.findall(rb"/URI\s*\(([^)]*)", term_handout.pdf)
    assert b"https://doi.org/10.1007/BF02551274" in uris
    assert all(u.startswith((b"https://", b"http://")) for u in uris), uris


def test_typst_error_becomes_a_message(tmp_path: Path) -> None:
    (tmp_path / "handout.typ.j2").write_text("#let x = (1, 2\n")
    with pytest.raises(TemplateError, match="typesetting the handout failed") as info:
        handout.build_handout(open_database(DB), DB, TODAY, templates=tmp_path)
    assert "handout.typ.j2" in str(info.value.where)


def test_jinja_value_is_a_typst_string() -> None:
    assert handout.typst_text('#import "x"\\') == '#"#import \\"x\\"\\\\"'


def test_cli_default_output(tmp_path: Path) -> None:
    shutil.copytree(DB, tmp_path / "bib")
    result = CliRunner().invoke(
        cli,
        ["--bib", str(tmp_path / "bib"), "handout", "--today", "2030-01-20", "--source"],
    )
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "dist" / "handout-2030-01-24.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "dist" / "handout-2030-01-24.typ").exists()
    result = CliRunner().invoke(
        cli, ["--bib", str(tmp_path / "bib"), "handout", "--term", "-o", str(tmp_path / "t.pdf")]
    )
    assert result.exit_code == 0 and (tmp_path / "t.pdf").exists()


# ---- the shipped reading list's handouts, read back from the PDF ----------------------------


def _tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI (.ci/run installs poppler-utils)")
        pytest.skip(f"{name} (poppler-utils) not installed")
    return tool


def _poppler(name: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [_tool(name), *args, str(path), *(["-"] if name == "pdftotext" else [])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _shipped(**options: object) -> handout.Handout:
    db = open_database(SHIPPED)
    return handout.build_handout(db, SHIPPED, dt.date(2022, 1, 1), **options)  # type: ignore[arg-type]


SHIPPED_SESSIONS = [s.id for s in open_database(SHIPPED).sessions]


@pytest.mark.parametrize("date", SHIPPED_SESSIONS)
def test_shipped_session_handout(date: str, tmp_path: Path) -> None:
    result = _shipped(session=date)
    data = json.loads(result.source.data)
    (session,) = data["sessions"]
    readings = [
        r for role in ("main", "readings", "prerequisites", "supplementary") for r in session[role]
    ]
    linked = [r for r in readings if r["open_url"]]
    assert len(linked) == len(readings) - sum(r["placeholder"] for r in readings)
    text = _poppler("pdftotext", result.pdf, tmp_path, "-enc", "UTF-8")
    flat = "".join(text.split())  # a long URL may break across lines
    # The header: the subtitle and the repository link are apart.
    assert "session handout\nhttps://github.com/dr-aheydari/DeepLearningGroup" in text
    for r in linked:
        assert "".join(handout.short_url(r["open_url"]).split()) in flat, r["key"]
    # The meta-topic only when the title does not already say it.
    repeated = session["topic"].casefold() in session["title"].casefold()
    assert ("Meta-topic:" in text) is not repeated
    # One QR code (an image) per reading with a link.
    images = _poppler("pdfimages", result.pdf, tmp_path, "-list").splitlines()[2:]
    assert len(images) == len(linked)
    # Every font is embedded, and nothing prints as an empty box.
    fonts = _poppler("pdffonts", result.pdf, tmp_path).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    assert [w for w in result.warnings if w.startswith("typst:")] == []
    if date == "2021-12-03":
        assert result.warnings == [
            "dropped ✨ (U+2728 SPARKLES) from the 2021-12-03 session: "
            "no font of the handout has it"
        ]
        assert "✨" not in text and "a little convoluted" in " ".join(text.split())
    else:
        assert result.warnings == []


def test_shipped_term_handout_prints_each_title_once(tmp_path: Path) -> None:
    result = _shipped(term=True)
    text = " ".join(_poppler("pdftotext", result.pdf, tmp_path, "-enc", "UTF-8").split())
    assert "term handout https://github.com/dr-aheydari/DeepLearningGroup" in text
    data = json.loads(result.source.data)
    titles = {r["title"] for r in data["references"] if r["title"]}
    for title in titles:
        assert f"{title}, {title}" not in text, title
    for title in ("Convolution", "AlexNet"):
        assert f"Supplementary: {title}" in text or f"Background: {title}" in text
    images = _poppler("pdfimages", result.pdf, tmp_path, "-list").splitlines()[2:]
    assert len(images) == sum(bool(r["open_url"]) for r in data["references"])
    assert [w for w in result.warnings if w.startswith("typst:")] == []


def test_fixture_handouts_have_no_warnings(
    session_handout: handout.Handout, term_handout: handout.Handout
) -> None:
    assert session_handout.warnings == [] and term_handout.warnings == []


def test_typst_warnings_are_captured(tmp_path: Path) -> None:
    (tmp_path / "handout.typ.j2").write_text('#set text(font: "No Such Font")\nHello\n')
    result = handout.build_handout(open_database(DB), DB, TODAY, templates=tmp_path)
    assert any(w.startswith("typst: unknown font family") for w in result.warnings)


def test_missing_glyphs_are_found() -> None:
    assert handout.missing_glyphs({"✨", "中", "ℓ", "é", "Đ", "→"}) == {"✨", "中"}


@pytest.mark.parametrize(
    ("paper", "box"), [("a4", "595.2756 841.8898"), ("us-letter", "612 792"), (None, "612 792")]
)
def test_paper_size(paper: str | None, box: str) -> None:
    # The shipped group.toml asks for US Letter; --paper overrides it.
    pdf = _shipped(session="2021-10-08", paper=paper).pdf
    assert f"/MediaBox[0 0 {box}]".encode() in pdf


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(UnknownNameError, match="no paper size"):
        _build(paper="a5")


def test_short_url() -> None:
    assert handout.short_url("https://www.example.org/a/") == "example.org/a"
    assert handout.short_url("https://example.org/") == "example.org/"
    assert handout.short_url("https://doi.org/10.1016/S0888-613X%2803%2900021-5") == (
        "doi.org/10.1016/S0888-613X(03)00021-5"
    )


def test_paper_has_no_bare_link_labels(tmp_path: Path) -> None:
    """On paper "link" or "PDF" says nothing: such a link is printed as its short URL, or
    left out when it is the URL already printed in full (and as a QR code) below."""
    data = json.loads(_shipped(session="2021-11-12").source.data)
    (session,) = data["sessions"]
    refs = {r["key"]: r for role in ("main", "supplementary") for r in session[role]}
    for r in refs.values():
        labels = [s["text"] for s in r["segments"] if s["style"] == "link"]
        assert not {"link", "PDF"} & set(labels), r["key"]
        printed = handout.short_url(r["open_url"])
        assert printed not in labels, r["key"]  # printed once, below the reference
    vaswani = refs["vaswani2017attention"]
    page = [s for s in vaswani["segments"] if s["url"].endswith("-Abstract.html")]
    assert [s["text"] for s in page] == [handout.short_url(page[0]["url"])]
    blog = "".join(s["text"] for s in refs["alammar2018illustrated"]["segments"])
    assert blog.endswith("Jay Alammar's blog. · [Ref xvi]")

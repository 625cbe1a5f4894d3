"""The JSON index: golden file, JSON Schema and CSL schema validation, pandoc, hostile text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from dlg_bib import export
from dlg_bib.cli import cli
from dlg_bib.library.database import open_database
from dlg_bib.render import index
from dlg_bib.render.environment import package_templates
from tests.conftest import pandoc as pinned_pandoc

FIXTURES = Path(__file__).parent / "fixtures" / "render"
DB = FIXTURES / "db"
GOLDEN = FIXTURES / "golden" / "index.json"
SCHEMAS = package_templates()  # schemas ship next to the templates, in dlg_bib/data


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def _index() -> str:
    return index.build_index(open_database(DB))


def _validator() -> Draft7Validator:
    csl = _schema("csl-data.json")
    registry: Registry[Any] = Registry().with_resource(csl["$id"], Resource.from_contents(csl))
    return Draft7Validator(_schema(index.SCHEMA_NAME), registry=registry)


def test_golden_index() -> None:
    text = _index()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_deterministic() -> None:
    assert _index().encode() == _index().encode()


def test_index_is_valid_against_its_schema() -> None:
    errors = list(_validator().iter_errors(json.loads(_index())))
    assert errors == []


def test_shipped_index_is_valid_and_lists_every_role() -> None:
    shipped = Path(__file__).resolve().parent.parent / "bib"
    document = json.loads(index.build_index(open_database(shipped)))
    assert list(_validator().iter_errors(document)) == []
    roles = {r["role"] for s in document["sessions"] for r in s["readings"]}
    assert roles == {"main", "reading", "prerequisite", "supplementary"}


def test_schema_catches_a_bad_csl_type() -> None:
    document = json.loads(_index())
    document["references"][0]["type"] = "journal-article"  # a Crossref name, not CSL
    assert list(_validator().iter_errors(document))


def test_csl_json_is_valid_against_the_csl_schema() -> None:
    items = json.loads(index.build_index(open_database(DB), csl_only=True))
    assert list(Draft7Validator(_schema("csl-data.json")).iter_errors(items)) == []
    assert all("custom" not in item for item in items)


def test_csl_schema_copy_is_the_official_one() -> None:
    import hashlib

    digest = hashlib.sha256((SCHEMAS / "csl-data.json").read_bytes()).hexdigest()
    assert digest == "23b2c062d7526060f4631bb04b4b3ba237e488484253e327bd00fa691861b811"


def _by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in document["references"]}


def test_item_fields() -> None:
    refs = _by_key(json.loads(_index()))
    cybenko = refs["cybenko1989approximation"]
    assert cybenko["type"] == "article-journal"
    assert cybenko["issued"] == {"date-parts": [[1989]]}
    assert cybenko["page"] == "303-314" and cybenko["issue"] == "4"
    assert cybenko["custom"]["dlg"]["sessions"] == [{"date": "2030-01-10", "role": "main"}]
    assert cybenko["custom"]["dlg"]["legacy"] == ["Ref iii"]
    pekalska = refs["pekalska2006noneuclidean"]
    assert pekalska["author"][0] == {"family": "Pękalska", "given": "Elżbieta"}
    assert pekalska["issued"] == {"date-parts": [[2006, 7]]}
    assert (
        pekalska["title"]
        == "Non-Euclidean or Non-metric Measures Can Be Informative: ℓ_1 – 50% & more"
    )
    berg = refs["hostile2023math"]["author"]
    assert berg == [
        {"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"},
        {"family": "Smith", "given": "John", "suffix": "Jr."},
    ]
    assert refs["goodfellow2016deepch5"]["type"] == "chapter"
    assert refs["goodfellow2016deepch5"]["container-title"] == "Deep Learning"
    assert refs["hostile2021script"]["type"] == "article"
    assert refs["hostile2021script"]["number"] == "arXiv:1706.03762"
    assert refs["hostile2021script"]["author"] == [
        {"literal": "The <script>alert(1)</script> Consortium"}
    ]


def test_sessions_list_readings_by_key_and_role() -> None:
    document = json.loads(_index())
    first = document["sessions"][0]
    assert first["date"] == "2030-01-10"
    assert first["readings"] == [
        {"key": "cybenko1989approximation", "role": "main"},
        {"key": "pekalska2006noneuclidean", "role": "reading"},
    ]
    assert document["topics"][0] == {
        "id": "uat",
        "title": "Universal Approximation",
        "sessions": ["2030-01-10", "2030-01-17"],
    }


def test_hostile_strings_are_data() -> None:
    refs = _by_key(json.loads(_index()))
    assert refs["hostile2020import"]["title"] == '#import "/etc/passwd"'
    assert refs["hostile2020input"]["title"] == r"\input{/etc/passwd}"
    assert refs["hostile2022link"]["title"] == "[x](javascript:alert(1))"
    assert "URL" not in refs["hostile2020import"]  # javascript: is not a link
    assert "URL" not in refs["hostile2020input"]  # nor is ftp:
    assert len(refs["cybenko1989approximation"]["abstract"]) > 1900


def test_pandoc_citeproc_formats_the_csl_json_without_warnings(tmp_path: Path) -> None:
    pandoc = pinned_pandoc()
    refs = tmp_path / "refs.json"
    refs.write_text(index.build_index(open_database(DB), csl_only=True), encoding="utf-8")
    meta = tmp_path / "meta.yaml"
    meta.write_text('nocite: "@*"\n', encoding="utf-8")
    result = subprocess.run(
        [
            pandoc,
            "--citeproc",
            f"--bibliography={refs}",
            f"--metadata-file={meta}",
            "-f",
            "markdown",
            "-t",
            "plain",
            "--wrap=none",
            "--fail-if-warnings",
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Cybenko, George. 1989." in result.stdout
    assert "Pękalska, Elżbieta" in result.stdout
    assert "https://doi.org/10.1007/BF02551274" in result.stdout


def test_cli_writes_file_and_stdout(tmp_path: Path) -> None:
    shutil.copytree(DB, tmp_path / "bib")
    runner = CliRunner()
    result = runner.invoke(cli, ["--bib", str(tmp_path / "bib"), "index"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dist" / "index.json").read_text(encoding="utf-8") == _index()
    result = runner.invoke(
        cli, ["--bib", str(tmp_path / "bib"), "index", "--format", "csl-json", "-o", "-"]
    )
    assert result.exit_code == 0
    assert isinstance(json.loads(result.stdout), list)


# The references are encoded by hand (for speed): the text must stay exactly what
# `json.dumps` writes for each line, in the documented layout.
def _layout(document: dict[str, Any]) -> str:
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    lines = []
    for key in sorted(document):
        value = document[key]
        if isinstance(value, list) and value:
            inner = ",\n".join("    " + compact(v) for v in value)
            lines.append(f"  {compact(key)}: [\n{inner}\n  ]")
        else:
            lines.append(f"  {compact(key)}: {compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def test_text_is_what_json_dumps_writes() -> None:
    text = _index()
    assert text == _layout(json.loads(text))
    items = index.build_index(open_database(DB), csl_only=True)
    compact = [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in json.loads(items)]
    assert items == "[\n" + ",\n".join(compact) + "\n]\n"


def test_index_and_export_give_the_same_csl_items() -> None:
    """One CSL mapping (issue 13, rule 11): the index's items are the export's, item for
    item, with the dlg data as the only addition."""
    db = open_database(DB)
    indexed = {item["id"]: item for item in json.loads(index.build_index(db))["references"]}
    exported = json.loads(export.render(export.select(db, export.Criteria()), "csl-json"))
    assert exported, "the fixture database exports references"
    for item in exported:
        assert {k: v for k, v in indexed[item["id"]].items() if k != "custom"} == item


def test_database_without_references(tmp_path: Path) -> None:
    shutil.copytree(DB, tmp_path / "bib")
    for bib in (tmp_path / "bib").glob("*.bib"):
        bib.write_text("", encoding="utf-8")
    db = open_database(tmp_path / "bib")
    text = index.build_index(db)
    assert json.loads(text)["references"] == [] and text == _layout(json.loads(text))
    assert json.loads(index.build_index(db, csl_only=True)) == []

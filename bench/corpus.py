"""`make corpus`: try dlg-bib on real-world BibTeX nobody here wrote, as a new member would.

For every `.bib` in ../shared/corpus/ (override with DLG_BIB_CORPUS), on a scratch copy:
- `lint` must not crash (exit 0 or 1);
- `tag` of the first, middle and last entry must leave every byte outside the tagged entry
  identical, and the tagged entry its type, fields and values apart from the tag;
- `export --format bibtex` compiled with pdflatex + bibtex (natbib, plainnat, `\\nocite{*}`)
  and `export --format biblatex` with pdflatex + biber must give no more errors and
  warnings than compiling the original file, and never fewer entries;
- `export --format csl-json` must hold every entry `pandoc -f bibtex -t csljson` finds, each
  with at least pandoc's fields.
One line per file, then a summary; exit 1 on any loss, 2 when the corpus is missing.
Not part of `make test`: it needs the shared corpus, TeX, biber and pandoc, and minutes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.texcompile import BIBLATEX_DOCUMENT, NATBIB_DOCUMENT, compile_biber, compile_bibtex
from dlg_bib.bibtex import store
from dlg_bib.export.cite import pandoc_path

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DLG_BIB_CORPUS", REPO.parent / "shared" / "corpus"))
TOPIC = "corpus"
GROUP_TOML = f'[group]\nname = "Corpus"\n\n[[topics]]\nid = "{TOPIC}"\ntitle = "Corpus"\n'
TOOLS = ("pdflatex", "bibtex", "biber")  # and pandoc: the `cite` extra's, as `cite` finds it
_SCHEMA = json.loads((REPO / "dlg_bib" / "data" / "csl-data.json").read_text(encoding="utf-8"))
CSL_VARIABLES = frozenset(_SCHEMA["items"]["properties"])


@dataclass
class Result:
    name: str
    notes: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)

    def line(self) -> str:
        verdict = "LOSS" if self.losses else "ok"
        text = f"{verdict:<4} {self.name}: " + "; ".join(self.notes)
        if self.losses:
            text += "\n       loss: " + "\n       loss: ".join(self.losses)
        return text


def dlg(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("dlg-bib")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "dlg_bib"]
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=600, check=False)


def scratch(source: Path, work: Path) -> Path:
    """A database folder holding a copy of `source` and a group with one topic to tag."""
    folder = work / "db"
    folder.mkdir(parents=True)
    shutil.copy2(source, folder / source.name)
    (folder / "group.toml").write_text(GROUP_TOML)
    return folder


def check_lint(db: Path, result: Result) -> None:
    done = dlg("--bib", str(db), "lint")
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        result.losses.append(f"lint exit {done.returncode}: {done.stderr.strip()[-300:]}")
    else:
        result.notes.append(f"lint exit {done.returncode}")


def check_tag(db: Path, bib_path: Path, result: Result) -> None:
    original = store.load_file(bib_path)
    blocks = [b for b in original.blocks if b.entry is not None]
    if not blocks:
        result.notes.append("tag: no entries")
        return
    picks = list(dict.fromkeys([0, len(blocks) // 2, len(blocks) - 1]))
    tagged = refused = 0
    for index in picks:
        before = store.load_file(bib_path)
        block = [b for b in before.blocks if b.entry is not None][index]
        assert block.entry is not None
        done = dlg("--bib", str(db), "tag", block.entry.key, "--topic", TOPIC)
        if done.returncode == 2 and "Traceback" not in done.stderr:
            refused += 1  # a file with syntax errors is never written: nothing lost
            if bib_path.read_text(encoding="utf-8") != before.text:
                result.losses.append(f"tag {block.entry.key}: refused, yet the file changed")
            continue
        if done.returncode != 0:
            result.losses.append(f"tag {block.entry.key}: exit {done.returncode} {done.stderr}")
            continue
        tagged += 1
        _compare_tagged(before, block, store.load_file(bib_path), result)
    note = f"tag {tagged}/{len(picks)} applied"
    result.notes.append(note + (f" ({refused} refused: syntax errors)" if refused else ""))


def _compare_tagged(
    before: store.BibFile, block: store.Block, after: store.BibFile, result: Result
) -> None:
    entry = block.entry
    assert entry is not None
    matches = [b for b in after.blocks if b.entry is not None and b.start == block.start]
    if not matches or matches[0].entry is None:
        result.losses.append(f"tag {entry.key}: the entry moved or vanished")
        return
    new_block = matches[0]
    new = new_block.entry
    assert new is not None
    if after.text[: new_block.start] != before.text[: block.start] or (
        after.text[new_block.end :] != before.text[block.end :]
    ):
        result.losses.append(f"tag {entry.key}: bytes outside the entry changed")
    # The type as the bytes spell it (`@web_page`), not as anyone parsed it.
    old_type, new_type = _written_type(block.raw), _written_type(new_block.raw)
    if new_type != old_type or new.key != entry.key:
        result.losses.append(f"tag {entry.key}: type @{old_type} became @{new_type}")
    untagged = {k: v for k, v in new.fields.items() if k != "dlg-topics"}
    kept = {k: v for k, v in entry.fields.items() if k != "dlg-topics"}
    if untagged != kept:
        changed = sorted(set(untagged.items()) ^ set(kept.items()))
        result.losses.append(f"tag {entry.key}: fields changed: {changed[:4]}")


def _written_type(raw: str) -> str:
    match = re.match(r"\s*@\s*([^\s{(]+)", raw)
    return match.group(1) if match else ""


def compile_pair(source: Path, db: Path, work: Path, fmt: str, result: Result) -> None:
    """Compile the original file and the export with the same document; compare."""
    reports = {}
    for label in ("original", "export"):
        folder = work / f"{fmt}-{label}"
        folder.mkdir()
        if label == "original":
            shutil.copy2(source, folder / "refs.bib")
        else:
            done = dlg("--bib", str(db), "export", "--format", fmt, "-o", str(folder / "refs.bib"))
            if done.returncode not in (0, 1):
                result.losses.append(f"export {fmt}: exit {done.returncode} {done.stderr[-300:]}")
                return
        if fmt == "bibtex":
            (folder / "doc.tex").write_text(NATBIB_DOCUMENT)
            reports[label] = compile_bibtex(folder, "doc", None)
        else:
            (folder / "doc.tex").write_text(BIBLATEX_DOCUMENT)
            reports[label] = compile_biber(folder, "doc")
    before, after = reports["original"], reports["export"]
    result.notes.append(
        f"{fmt}: {before.entries}->{after.entries} entries, "
        f"{before.problems}->{after.problems} errors+warnings"
    )
    if after.entries < before.entries:
        result.losses.append(f"{fmt}: {before.entries - after.entries} entries fewer")
    if after.problems > before.problems:
        new = [p for p in after.errors + after.undefined + after.bib_warnings]
        result.losses.append(f"{fmt}: more errors/warnings, e.g. {new[:3]}")


def check_csl(source: Path, db: Path, result: Result) -> None:
    done = subprocess.run(
        [pandoc_path() or "pandoc", "-f", "bibtex", "-t", "csljson", str(source)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["?"])[0]
        result.notes.append(f"csl-json: pandoc cannot read the file ({first[-60:]})")
    theirs = {item["id"]: item for item in json.loads(done.stdout or "[]")}
    exported = dlg("--bib", str(db), "export", "--format", "csl-json")
    if exported.returncode not in (0, 1):
        result.losses.append(f"csl-json: exit {exported.returncode} {exported.stderr[-300:]}")
        return
    ours = {item["id"].lower(): item for item in json.loads(exported.stdout or "[]")}
    missing_entries = [key for key in theirs if key.lower() not in ours]
    missing_fields: Counter[str] = Counter()
    sets = {e.key.lower() for e in store.load_file(source).entries if e.entry_type == "set"}
    for key, item in theirs.items():
        mine = ours.get(key.lower())
        if mine is None or key.lower() in sets:
            continue  # pandoc fills a `@set` with its first member's fields
        # pandoc's extensions (`other-ids`) are not CSL, and empty values say nothing; a
        # value kept under another variable (a web page's site) is kept.
        missing_fields.update(
            name
            for name, value in item.items()
            if name in CSL_VARIABLES
            and value not in ("", [], {})
            and name not in mine
            and value not in mine.values()
        )
    result.notes.append(f"csl-json: {len(ours)} items (pandoc {len(theirs)})")
    if missing_entries:
        result.losses.append(
            f"csl-json: {len(missing_entries)} entries missing: {missing_entries[:5]}"
        )
    if missing_fields:
        fields = ", ".join(f"{name} ×{n}" for name, n in missing_fields.most_common())
        result.losses.append(f"csl-json: fields pandoc keeps, missing here: {fields}")


def check_file(source: Path) -> Result:
    result = Result(source.name)
    with tempfile.TemporaryDirectory(prefix="dlg-corpus-") as tmp:
        work = Path(tmp)
        db = scratch(source, work)
        copy = db / source.name
        check_lint(db, result)
        compile_pair(source, db, work, "bibtex", result)
        compile_pair(source, db, work, "biblatex", result)
        check_csl(source, db, result)
        check_tag(db, copy, result)  # last: it changes the scratch copy
    return result


def main() -> int:
    if not CORPUS.is_dir():
        print(f"corpus folder not found: {CORPUS} (set DLG_BIB_CORPUS)", file=sys.stderr)
        return 2
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    missing += [] if pandoc_path() else ["pandoc"]
    if missing:
        print(f"not installed: {', '.join(missing)}", file=sys.stderr)
        return 2
    files = sorted(CORPUS.glob("*.bib"))
    if not files:
        print(f"no .bib files in {CORPUS}", file=sys.stderr)
        return 2
    results = []
    for path in files:
        result = check_file(path)
        print(result.line(), flush=True)
        results.append(result)
    lossy = [r.name for r in results if r.losses]
    print(
        f"\n{len(files)} files, {len(files) - len(lossy)} without loss"
        + (f"; loss in: {', '.join(lossy)}" if lossy else "")
    )
    return 1 if lossy else 0


if __name__ == "__main__":
    sys.exit(main())

"""`dlg-bib keys`: the names an entry can be cited or tagged by."""

from __future__ import annotations

import json

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import format_option
from dlg_bib.library.keys import KeyListing, key_listing


@click.command("keys")
@format_option
@pass_app
def command(app: AppContext, output_format: str) -> None:
    """List every entry: citation key, legacy labels ("Ref 14"), aliases (`ids`), title.

    Every command that takes KEY accepts any of these names; cite the key in LaTeX.
    """
    rows = key_listing(app.workspace().db)
    if output_format == "json":
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False))
        return
    for line in _table(rows):
        click.echo(line)


def _table(rows: list[KeyListing]) -> list[str]:
    cells = [("KEY", "LEGACY", "ALIASES", "TITLE")] + [
        (r.key, ", ".join(r.legacy), ", ".join(r.aliases), r.title) for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in cells
    ]

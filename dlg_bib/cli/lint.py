"""`dlg-bib lint`: check the database."""

from __future__ import annotations

import json
import sys

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import format_option
from dlg_bib.errors import EXIT_FINDINGS, EXIT_OK
from dlg_bib.ops.lint import lint_workspace, summary


@click.command("lint")
@format_option
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@pass_app
def command(app: AppContext, output_format: str, strict: bool) -> None:
    """Check the database: syntax (with the silent cases BibTeX chokes on), duplicate keys
    and works, required fields, DOIs and arXiv ids, months, tags, placeholders.

    Prints `file:line: severity: message [rule]` and a hint per finding. Exit 0 when there
    are no errors (warnings alone pass unless --strict), 1 otherwise.
    """
    findings = lint_workspace(app.workspace())
    counts = summary(findings)
    if output_format == "json":
        doc = {"findings": [f.as_dict() for f in findings], "summary": counts}
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            click.echo(finding.as_text())
        click.echo(f"{counts['errors']} error(s), {counts['warnings']} warning(s)", err=True)
    failed = counts["errors"] > 0 or (strict and counts["warnings"] > 0)
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)

"""`dlg-bib check-links`: which links are dead, moved, blocked or slow, and what to use
instead."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.errors import EXIT_FINDINGS, EXIT_OK, DlgBibError
from dlg_bib.links.cache import LinkCache
from dlg_bib.links.check import MAX_CONCURRENCY, CheckOptions, LinkResult, looks_offline
from dlg_bib.links.extract import collect_links
from dlg_bib.links.report import render_json, render_markdown, render_table
from dlg_bib.links.runner import check_links

RENDERERS = {"table": render_table, "json": render_json, "markdown": render_markdown}


@click.command("check-links")
@click.option(
    "--readme",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also check every link of this rendered README (e.g. README.md).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(RENDERERS)),
    default="table",
    show_default=True,
    help="table for people, json for scripts, markdown for issue reports.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, MAX_CONCURRENCY),
    default=CheckOptions.concurrency,
    show_default=True,
    help="Requests in flight overall (fewer if the open-files limit is lower).",
)
@click.option(
    "--per-host",
    type=click.IntRange(1, MAX_CONCURRENCY),
    default=CheckOptions.per_host,
    show_default=True,
    help="Requests in flight per host (arXiv, doi.org and Crossref keep their own stricter rules).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.01, 300),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a connection or an answer.",
)
@click.option(
    "--no-cache", is_flag=True, help="Check every link again, even fresh ones (still saved)."
)
@click.option(
    "--no-archive",
    is_flag=True,
    help="No Wayback Machine lookups for dead links (it answers one request at a time); "
    "DOI and arXiv suggestions stay.",
)
@pass_app
def command(
    app: AppContext,
    readme: Path | None,
    output_format: str,
    concurrency: int,
    per_host: int,
    timeout: float,
    no_cache: bool,
    no_archive: bool,
) -> None:
    """Check every link of the database (url, doi, pdf, arXiv eprint, other URL fields) and,
    with --readme, of the rendered README; each URL once.

    \b
    Verdicts: ok, redirected (permanent: update the link), dead (404, 410,
    no such host, refused, TLS failure), blocked (alive but refuses robots:
    401, 403, 999), timeout and error (transient). SharePoint/OneDrive share
    links are flagged even while they work. Dead links get a suggestion: the
    entry's DOI or arXiv link, else an archived copy (Wayback Machine,
    DLG_BIB_WAYBACK_API). Fresh ok results are cached (DLG_BIB_CACHE_DIR).
    Exit 1 when any link is dead, 0 otherwise; exit 2 when no host at all
    could be resolved or reached (the machine looks offline).
    """
    db = app.workspace().db
    links = collect_links(db, readme)
    options = CheckOptions(timeout=timeout, concurrency=concurrency, per_host=per_host)
    with _progress(len(links)) as advance:
        rows = check_links(
            links,
            db,
            options,
            LinkCache(),
            on_result=advance,
            refresh=no_cache,
            archive=not no_archive,
        )
    if looks_offline(row.result for row in rows):
        hosts = {urlsplit(row.link.url).hostname for row in rows if row.result.unreached}
        raise DlgBibError(
            f"no host could be resolved or reached ({len(hosts)} hosts tried): this machine looks "
            "offline, so no link is reported dead",
            hint="connect to the network and run check-links again",
        )
    click.echo(RENDERERS[output_format](rows), nl=False)
    dead = any(row.result.verdict == "dead" for row in rows)
    sys.exit(EXIT_FINDINGS if dead else EXIT_OK)


def _progress(total: int) -> Any:
    """A progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty() or total == 0:
        return nullcontext(_ignore)
    return _Bar(total)


def _ignore(_result: LinkResult) -> None:
    return None


class _Bar:
    def __init__(self, total: int):
        self._bar = click.progressbar(length=total, label="Checking links", file=sys.stderr)

    def __enter__(self) -> Callable[[LinkResult], None]:
        self._bar.__enter__()
        return lambda _result: self._bar.update(1)

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

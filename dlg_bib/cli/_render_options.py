"""Options shared by the rendering commands (readme, handout, index)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from dlg_bib.render.environment import TEMPLATES_ENV

templates_option = click.option(
    "--templates",
    "templates",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder of templates that override the project's templates/ (env {TEMPLATES_ENV}).",
)
today_option = click.option(
    "--today",
    "today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Render as if today were DATE (YYYY-MM-DD): decides the next session.",
)


def today_of(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else dt.date.today()

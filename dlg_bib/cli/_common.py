"""Options shared by several commands."""

from __future__ import annotations

import click

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts and CI.",
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Show what would change; write nothing."
)

"""The `dlg-bib` command line: thin click commands that parse options, call the core, print.

Each module in this package defines one `command` (a click command); they are discovered
here and imported lazily, so adding a command is adding a module. Every `DlgBibError` is
caught once, in `main`.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from dlg_bib import __version__
from dlg_bib.errors import EXIT_INTERRUPTED, EXIT_USAGE, DlgBibError
from dlg_bib.library.database import Workspace, open_workspace

EPILOG = """\b
Exit codes:
  0  ok
  1  findings (lint errors, dead links, unknown keys) or partial failure
  2  usage error (an unknown session, topic or term too), unreadable
     input (file:line says where), a file that cannot be written, or lint
     errors in a database to render
  130  interrupted (Ctrl-C)

\b
The database (--bib, before or after the command; default bib/): a folder of
.bib files plus group.toml (group, meta-topics, sessions), or a single .bib
file. Entries carry their tags in BibTeX fields: dlg-topics = {nlp},
dlg-sessions = {2021-11-12:main}. `dlg-bib keys` lists the keys.
"""


@dataclass
class AppContext:
    bib: Path
    _workspace: Workspace | None = None

    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = open_workspace(self.bib)
        return self._workspace


pass_app = click.make_pass_decorator(AppContext)


def _override_bib(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        app = ctx.ensure_object(AppContext)
        app.bib, app._workspace = value, None


# `--bib` after the command name (`dlg-bib lint --bib bib`) overrides the group's option;
# LazyGroup gives it to every command, so no command declares it.
bib_option = click.option(
    "--bib",
    type=click.Path(path_type=Path),
    default=None,
    expose_value=False,
    callback=_override_bib,
    help="The database (same as `dlg-bib --bib PATH`).",
)


# Modules whose command name is not their module name with `-` for `_`.
_MODULE_OF = {"import": "import_bib"}


def _command_modules() -> dict[str, str]:
    package = sys.modules[__name__]
    names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    by_module = {module: command for command, module in _MODULE_OF.items()}
    return {by_module.get(name, name.replace("_", "-")): name for name in sorted(names)}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or help lists it), so
    `dlg-bib lint` does not pay for HTTP, Typst or Jinja imports."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_command_modules())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = _command_modules().get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"{__name__}.{module_name}")
        command = getattr(module, "command", None)
        if not isinstance(command, click.Command):
            return None
        if not any(param.name == "bib" for param in command.params):
            bib_option(command)
        return command


@click.group(
    cls=LazyGroup,
    epilog=EPILOG,
    # Wrap help at the terminal's width, but never wider than 100 columns.
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="dlg-bib")
@click.option(
    "--bib",
    "bib",
    type=click.Path(path_type=Path),
    default=Path("bib"),
    show_default=True,
    envvar="DLG_BIB_PATH",
    help="The database: a folder of .bib files plus group.toml, or one .bib file.",
)
@click.pass_context
def cli(ctx: click.Context, bib: Path) -> None:
    """dlg-bib: the DLG reading list as a BibTeX database.

    Lint it, tag readings to sessions, import and enrich references, check links,
    and render the README, the session handout and the JSON index.
    """
    ctx.obj = AppContext(bib=bib)


def main() -> None:
    # Each run is a short batch over many small objects (10,000 entries make ~10^6):
    # the default threshold runs the cyclic collector thousands of times for nothing.
    gc.set_threshold(100_000, 50, 100)
    sys.exit(run())


def run(args: list[str] | None = None) -> int:
    """Run the CLI and return the exit code the shell must see.

    With standalone_mode=False click *returns* the code of `ctx.exit(n)` and
    `raise Exit(n)` instead of exiting, so it is passed on here, never dropped.
    """
    try:
        code = cli.main(args=args, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except (click.exceptions.Abort, KeyboardInterrupt):
        # click turns Ctrl-C into Abort; both mean the user stopped the run.
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except DlgBibError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    return code if isinstance(code, int) else 0

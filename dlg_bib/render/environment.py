"""The Jinja environment: where templates come from, their filters, and their errors.

Templates are looked up in order: the folder given by `--templates` or `DLG_BIB_TEMPLATES`,
then the project's `templates/` (next to the database folder), then the copies shipped in
the package (`dlg_bib/data/`). A user folder may hold only the templates it changes.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from dlg_bib.errors import TemplateError

if TYPE_CHECKING:
    import jinja2

TEMPLATES_ENV = "DLG_BIB_TEMPLATES"
PROJECT_TEMPLATES = "templates"


def project_root(bib: Path) -> Path:
    """The repository of a database: the parent of `bib/` (or of the folder holding a .bib)."""
    bib = bib.resolve()
    folder = bib if bib.is_dir() or not bib.suffix else bib.parent
    return folder.parent


def package_templates() -> Path:
    return Path(str(resources.files("dlg_bib") / "data"))


def template_dirs(bib: Path, override: Path | None = None) -> list[Path]:
    """The folders searched for templates, first match wins."""
    dirs: list[Path] = []
    chosen = override or (
        Path(os.environ[TEMPLATES_ENV]) if os.environ.get(TEMPLATES_ENV) else None
    )
    if chosen is not None:
        if not chosen.is_dir():
            raise TemplateError(
                "template folder not found",
                where=str(chosen),
                hint=f"pass an existing folder to --templates (or unset {TEMPLATES_ENV})",
            )
        dirs.append(chosen)
    project = project_root(bib) / PROJECT_TEMPLATES
    if project.is_dir():
        dirs.append(project)
    dirs.append(package_templates())
    return dirs


def make_environment(
    dirs: list[Path],
    filters: dict[str, Callable[..., Any]],
    finalize: Callable[[Any], Any] | None = None,
    *,
    autoescape: bool = False,
) -> jinja2.Environment:
    """An environment whose `finalize` escapes every plain string for the output syntax
    (Markdown, Typst), or, for HTML, Jinja's own autoescape (macros return markup).

    Filters that produce markup return `Markup`, which `finalize` leaves alone; anything else
    printed with `{{ … }}` is escaped, so a template cannot forget to escape data.
    """
    # Imported here: `dlg-bib index` uses this module (project_root) but no template.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=autoescape,
        finalize=finalize,
        auto_reload=False,
    )
    env.filters.update(filters)
    return env


def escaping_finalize(escape: Callable[[str], str]) -> Callable[[Any], Any]:
    def finalize(value: Any) -> Any:
        if isinstance(value, Markup):
            return str(value)
        if value is None:
            return ""
        return escape(str(value))

    return finalize


def markup(function: Callable[..., str]) -> Callable[..., Markup]:
    """Mark a filter's output as already escaped for the template's syntax."""

    def wrapper(*args: Any, **kwargs: Any) -> Markup:
        return Markup(function(*args, **kwargs))

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


def render(env: jinja2.Environment, name: str, **variables: Any) -> str:
    """Render one template; syntax and runtime errors become TemplateError with file:line."""
    import jinja2

    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"template {name!r} not found",
            where=", ".join(getattr(env.loader, "searchpath", [])),
            hint="copy it from the project's templates/ folder",
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}",
            where=f"{exc.filename or name}:{exc.lineno}",
            hint="see templates/README.md for the template language and variables",
        ) from exc
    try:
        return template.render(**variables)
    except jinja2.TemplateError as exc:
        raise TemplateError(
            f"template error: {exc}",
            where=_template_line(exc, template.filename or name),
            hint="see templates/README.md for the variables and filters",
        ) from exc
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        raise TemplateError(
            f"template error: {type(exc).__name__}: {exc}",
            where=_template_line(exc, template.filename or name),
            hint="see templates/README.md for the variables and filters",
        ) from exc


def _template_line(exc: BaseException, filename: str) -> str:
    """file:line of the innermost template frame (Jinja rewrites tracebacks to point there)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2") or frame.filename == filename:
            return f"{frame.filename}:{frame.lineno}"
    return filename

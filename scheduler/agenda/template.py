"""Agenda templates: load an admin's Jinja2 file, render it, and check it for ``oneonone check``.

The only I/O is reading the template file in ``load_template``; rendering is pure.

Templates are admin-written files, so they run in Jinja2's ``SandboxedEnvironment``: a template
cannot reach Python internals (``''.__class__.__mro__`` and the like are refused). Undefined
names are errors (``StrictUndefined``): a misspelt variable must fail loudly at
``oneonone check``, not leave a silent gap in every rep's agenda. The output is Markdown, so
nothing is HTML-escaped, and a trailing newline is kept; a block tag alone on its line leaves
no blank line behind (``trim_blocks``, ``lstrip_blocks``). The filter ``cell`` makes text safe
in a Markdown table cell. A template is a single file:
``include``/``extends`` are not available (there is no loader), which keeps rendering free of
I/O.

Every problem is a ``TemplateProblem``: one sentence naming the file and the line
(``config/agendas/default.md.j2, line 12: unexpected '}'.``).

The names a template can use are those of ``AgendaContext.variables()``: ``manager_name``,
``manager_email``, ``rep_name``, ``rep_email``, ``start`` (aware, in ``zone``), ``zone``,
``session_date``, ``session_time``, ``week``, ``open_items`` (texts), ``previous_link`` (or
none), ``deals`` (``DealLine``), ``metrics`` (``MetricLine``) and ``pipeline_problems``.

Exports: AgendaTemplate, TemplateProblem, load_template, check_template.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from scheduler.agenda.context import AgendaContext, sample_context
from scheduler.agenda.items import parse_items

__all__ = ["AgendaTemplate", "TemplateProblem", "check_template", "load_template"]


class TemplateProblem(ValueError):
    """An agenda template that cannot be read, parsed or rendered; the message says where."""


def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped (an account named
    ``A|B`` would otherwise add a column)."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        # A block tag on a line of its own leaves no blank line or indentation behind, so a
        # Markdown template can be written one tag per line and still read cleanly.
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _cell
    return env


def _sentence(path: Path, line: int | None, text: str) -> str:
    text = text.rstrip()
    end = "" if text.endswith((".", "?", "!")) else "."
    where = f"{path}, line {line}" if line else f"{path}"
    return f"{where}: {text}{end}"


def _template_line(tb: TracebackType | None, filename: str) -> int | None:
    """The template line an error was raised at: the innermost frame Jinja2 rewrote to the
    template's own file name (see ``jinja2.debug.rewrite_traceback_stack``)."""
    line: int | None = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@dataclass(frozen=True, slots=True, eq=False)
class AgendaTemplate:
    """A parsed agenda template, ready to render any number of contexts."""

    path: Path
    template: Template

    def render(self, context: AgendaContext) -> str:
        """The agenda for ``context`` as Markdown.

        An error the template itself causes (an undefined name, an unsafe attribute, a filter
        applied to the wrong type) is a ``TemplateProblem`` naming the file and line; an error
        raised outside the template's own code is a bug here and propagates as it is.
        """
        variables = context.variables()
        try:
            return self.template.render(variables)
        except Exception as exc:
            line = _template_line(exc.__traceback__, str(self.path))
            if line is None and not isinstance(exc, TemplateError):
                raise
            message = str(exc) or type(exc).__name__
            hint = ""
            if "is undefined" in message:
                hint = "; the names a template can use are " + ", ".join(sorted(variables))
            raise TemplateProblem(_sentence(self.path, line, message + hint)) from exc


def load_template(path: Path) -> AgendaTemplate:
    """Read and parse the template at ``path``; raise ``TemplateProblem`` if it is unusable."""
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateProblem(
            _sentence(path, None, "is not UTF-8 text; save it as UTF-8")
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise TemplateProblem(
            _sentence(path, None, f"cannot be read ({reason}); check the path and permissions")
        ) from None
    env = _environment()
    try:
        code = env.compile(source, name=path.name, filename=str(path))
    except TemplateSyntaxError as exc:
        raise TemplateProblem(_sentence(path, exc.lineno, exc.message or str(exc))) from None
    template = env.template_class.from_code(env, code, env.make_globals(None))
    return AgendaTemplate(path=path, template=template)


def check_template(path: Path) -> list[str]:
    """Every problem with the template at ``path``, one sentence each; empty when it is fine.

    Besides reading and parsing it, renders it twice: against ``sample_context()`` (every
    optional part filled) and against the same context with every optional part empty, so a
    misspelt name shows whichever branch of an ``if`` it sits in. Then checks the output still
    lists the open action items as ``- [ ]`` lines: without them the read-back after the 1:1
    would find every carried item deleted and drop it.
    """
    sample = sample_context()
    bare = replace(
        sample, open_items=(), previous_link=None, deals=(), metrics=(), pipeline_problems=()
    )
    try:
        template = load_template(path)
        text = template.render(sample)
        template.render(bare)
    except TemplateProblem as exc:
        return [str(exc)]
    listed = {(item.text, item.done) for item in parse_items(text)}
    missing = [t for t in sample.open_items if (t, False) not in listed]
    if missing:
        return [
            _sentence(
                path,
                None,
                "does not list the open action items as '- [ ] text' lines, so they would be "
                "dropped when the agenda is read back; keep a loop over open_items under the "
                "Action items heading",
            )
        ]
    return []

"""The server's HTML pages: Jinja2 templates (autoescaped) and one stylesheet.

Rendering only: no I/O besides loading the package's templates and static files. The pages
run no script and load nothing but ``/static/`` (the server's Content-Security-Policy says so).

Exports: render, static_file, trend_svg.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from scheduler.dashboard import trend_points

__all__ = ["render", "static_file", "trend_svg"]

#: Files under ``/static/``: name -> content type.
STATIC = {"oneonone.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _day(value: str | None) -> str:
    if not value:
        return "–"
    return datetime.fromisoformat(value).strftime("%d %b")


_env = Environment(
    loader=PackageLoader("scheduler", "pages/templates"),
    autoescape=select_autoescape(["j2", "html"], default_for_string=True, default=True),
    trim_blocks=False,
)


def _when(value: datetime) -> str:
    return f"{value:%a %d %b %Y %H:%M} {value:%Z}".strip()


_env.filters["pct"] = _pct
_env.filters["when"] = _when
_env.filters["day"] = _day


def render(name: str, **context: Any) -> bytes:
    return _env.get_template(name).render(**context).encode("utf-8")


def static_file(name: str) -> tuple[bytes, str] | None:
    """(bytes, content type) of a static file, or ``None``."""
    kind = STATIC.get(name)
    if kind is None:
        return None
    data = resources.files("scheduler").joinpath(f"pages/static/{name}").read_bytes()
    return data, kind


def trend_svg(trend: Sequence[tuple[str, float | None]]) -> Markup:
    """The org's weekly adherence as an inline SVG line chart (no script, no external file)."""
    width, height, pad = 520, 140, 28
    points = trend_points(trend, width, height, pad)
    parts = [
        f'<svg class="trend" id="trend" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="trend-title">',
        '<title id="trend-title">Share of 1:1s held each week</title>',
    ]
    for share in (0.0, 0.5, 1.0):
        y = height - pad - share * (height - 2 * pad)
        parts.append(f'<line class="grid" x1="{pad}" x2="{width - pad}" y1="{y}" y2="{y}"/>')
        parts.append(f'<text x="2" y="{y + 3}">{share * 100:.0f}%</text>')
    if len(points) > 1:
        path = " ".join(f"{x},{y}" for _, x, y, _ in points)
        parts.append(f'<polyline class="line" points="{path}"/>')
    for week, x, y, value in points:
        label = escape(f"{week}: {value * 100:.0f}%")
        parts.append(
            f'<circle class="dot" cx="{x}" cy="{y}" r="3" data-week="{escape(week)}" '
            f'data-adherence="{value}"><title>{label}</title></circle>'
        )
    step = (width - 2 * pad) / max(1, len(trend) - 1)
    for index, (week, _) in enumerate(trend):
        if index % 2 == 0 or index == len(trend) - 1:
            x = pad + index * step
            parts.append(
                f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{escape(week[5:])}</text>'
            )
    if not points:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no settled '
            "weeks yet</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))

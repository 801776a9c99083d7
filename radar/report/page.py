"""The building blocks of radar's HTML pages: a self-contained page shell, tables and an SVG chart.

The scan report (`radar.report.html`) and the migration plan's page both use these, so that
every HTML file radar writes looks alike and follows the same rules:

- one file, nothing fetched: CSS is inline, the chart is inline SVG, there is no script, font,
  image or link to another site. A Content-Security-Policy meta tag says so to the browser too,
  so a report opened from a CI artifact cannot load anything even if a bug let markup through;
- every piece of text that came from a scan (paths, names, descriptions, previews) is escaped
  here with `html.escape`; only the `body_html` given to `page()` is trusted markup, and callers
  build it from the escaping helpers below.

Stable API (other modules import it; add to it, do not change these signatures):
`page(title, body_html)`, `severity_chart(counts)`, `table(headers, rows)`, `severity_badge(severity)`,
`esc(text)`, `ordered_severities(present)`, `SEVERITY_ORDER`, `SEVERITY_COLOURS`.
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping, Sequence

# Most severe first: the order of chart segments, legends and summary columns.
SEVERITY_ORDER: tuple[str, ...] = ("critical", "high", "medium", "low", "info", "unknown")
# Distinguishable for common colour-vision deficiencies (dark red, orange, amber, blue, greys);
# every bar also carries its count and a <title>, so colour is never the only carrier.
SEVERITY_COLOURS: Mapping[str, str] = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#d97706",
    "low": "#2563eb",
    "info": "#6b7280",
    "unknown": "#9ca3af",
}
_OTHER_COLOUR = "#9ca3af"

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #111827; background: #ffffff;
       line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #e5e7eb; padding-bottom: .25rem; }
p.meta, dl.meta { color: #4b5563; margin: .25rem 0 1rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #e5e7eb; padding: .3rem .5rem; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #f3f4f6; white-space: nowrap; }
/* The first column holds paths, which may be long and have no spaces: it alone may break anywhere. */
td:first-child { overflow-wrap: anywhere; min-width: 12rem; }
table.summary { width: auto; min-width: 16rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.ignored td { color: #6b7280; text-decoration: line-through; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em;
       background: #f3f4f6; padding: 0 .2em; border-radius: 3px; white-space: nowrap; }
/* A code block (policy, role, YAML) keeps its lines: its <code> must not inherit the inline rule. */
pre code { white-space: inherit; background: none; padding: 0; font-size: inherit; }
.sev { display: inline-block; padding: 0 .45em; border-radius: 999px; color: #ffffff; font-size: .8rem;
       font-weight: 600; white-space: nowrap; }
.chart { margin: .5rem 0 1rem; max-width: 100%; height: auto; }
.empty { color: #4b5563; font-style: italic; }
footer { color: #6b7280; font-size: .8rem; margin-top: 2rem; }
@media print { body { margin: 0; max-width: none; } }
"""

# Nothing may load: styles only from the inline <style>, no scripts, frames, fonts or images.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def esc(text: object) -> str:
    """`text` as HTML text or attribute content (quotes escaped too)."""
    return html.escape(str(text), quote=True)


def page(title: str, body_html: str) -> str:
    """A complete HTML5 document: `<title>` and `<h1>` are the escaped `title`, then `body_html`.

    `body_html` is inserted as markup: build it from `esc`, `table`, `severity_chart` and
    `severity_badge` so that scanned text is never interpreted as HTML.
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n{body_html}\n</body>\n</html>\n"
    )


def severity_colour(severity: str) -> str:
    """The colour that stands for `severity` in charts and badges (grey for unknown names)."""
    return SEVERITY_COLOURS.get(severity.lower(), _OTHER_COLOUR)


def severity_badge(severity: str) -> str:
    """A coloured pill with the severity's name, e.g. for a table cell (escaped)."""
    return f'<span class="sev" style="background:{severity_colour(severity)}">{esc(severity)}</span>'


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, caption: str | None = None,
          raw_columns: frozenset[int] = frozenset(), numeric_columns: frozenset[int] = frozenset(),
          row_classes: Sequence[str] | None = None, table_class: str | None = None) -> str:
    """An HTML table; cells are escaped text, except columns in `raw_columns` (given as markup).

    `numeric_columns` are right-aligned; `row_classes[i]` (e.g. "ignored") is set on row i;
    `table_class` is the table's own class (e.g. "findings", for styling and tests).
    """
    def cell(tag: str, index: int, value: str) -> str:
        css = ' class="num"' if index in numeric_columns else ""
        content = value if index in raw_columns and tag == "td" else esc(value)
        return f"<{tag}{css}>{content}</{tag}>"

    parts = [f'<table class="{esc(table_class)}">' if table_class else "<table>"]
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(cell("th", i, h) for i, h in enumerate(headers)) + "</tr></thead>")
    parts.append("<tbody>")
    for n, row in enumerate(rows):
        css = row_classes[n] if row_classes and row_classes[n] else ""
        attribute = f' class="{esc(css)}"' if css else ""
        parts.append(f"<tr{attribute}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def ordered_severities(present: Iterable[str]) -> list[str]:
    """The distinct severities in `present`, most severe first; names outside SEVERITY_ORDER last, sorted."""
    found = set(present)
    return [s for s in SEVERITY_ORDER if s in found] + sorted(found - set(SEVERITY_ORDER))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def severity_chart(counts: Mapping[str, Mapping[str, int]], *,
                   title: str = "Findings by secret type and severity") -> str:
    """Inline SVG: one horizontal bar per category (e.g. secret type), stacked by severity.

    `counts` maps a category to {severity: count}; categories are drawn most findings first,
    segments most severe first. Each segment is a `<rect class="segment">` with `data-category`
    and `data-severity` attributes and a `<title>` ("aws-secret: 3 high"), and each bar ends
    with its total as text; a legend names the severities present. The whole chart has
    role="img" and a `<title>`/`<desc>` for screen readers. With no counts it is a short
    "no findings" paragraph instead of an empty chart.
    """
    rows = sorted(((c, {s: n for s, n in per.items() if n > 0}) for c, per in counts.items()),
                  key=lambda item: (-sum(item[1].values()), item[0]))
    rows = [(c, per) for c, per in rows if per]
    if not rows:
        return '<p class="empty">No findings to chart.</p>'
    severities = ordered_severities(s for per_type in counts.values() for s, n in per_type.items() if n > 0)
    label_width, bar_width, bar_height, gap, top, char_width = 250, 560, 22, 10, 40, 6.5
    width = label_width + bar_width + 60
    height = top + len(rows) * (bar_height + gap) + 10
    largest = max(sum(per.values()) for _, per in rows)
    total = sum(sum(per.values()) for _, per in rows)
    description = "; ".join(
        f"{c}: " + ", ".join(f"{per[s]} {s}" for s in severities if s in per) for c, per in rows
    )
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="chart-title chart-desc" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="chart-title">{esc(title)} ({total} in total)</title>',
        f'<desc id="chart-desc">{esc(description)}</desc>',
    ]
    # The legend: one swatch and name per severity present, on one line above the bars.
    x = float(label_width)
    slot = 16 + max(len(s) for s in severities) * char_width + 12  # equal slots: an even legend
    parts.append('<g class="legend">')
    for s in severities:
        parts.append(f'<rect x="{x:.0f}" y="8" width="12" height="12" fill="{severity_colour(s)}"/>'
                     f'<text x="{x + 16:.0f}" y="18.5" fill="#111827">{esc(s)}</text>')
        x += slot
    parts.append("</g>")
    for row, (category, per) in enumerate(rows):
        y = top + row * (bar_height + gap)
        text_y = y + bar_height / 2 + 4
        parts.append(f'<g class="bar" data-category="{esc(category)}">')
        parts.append(f'<text x="{label_width - 8}" y="{text_y:.1f}" text-anchor="end" fill="#111827">'
                     f"<title>{esc(category)}</title>{esc(_shorten(category, 34))}</text>")
        x = float(label_width)
        for s in severities:
            n = per.get(s, 0)
            if not n:
                continue
            # Every segment stays at least 2 px wide so that a single finding is visible next to many.
            w = max(2.0, bar_width * n / largest)
            parts.append(
                f'<rect class="segment" data-category="{esc(category)}" data-severity="{esc(s)}" '
                f'x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{severity_colour(s)}">'
                f"<title>{esc(category)}: {n} {esc(s)}</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{text_y:.1f}" fill="#111827">{sum(per.values())}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)

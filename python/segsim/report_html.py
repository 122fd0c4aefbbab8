"""Building blocks of the self-contained HTML report: matplotlib figures as inline SVG, tables,
sections. No external resources (no scripts, styles or images from elsewhere)."""

import html
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Text stays text in the SVG (small, searchable); fixed hash salt and no date: the same input
# gives the same report bytes.
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "segsim", "font.size": 9})

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td.text, th.text { text-align: left; }
.note { color: #555; font-size: 0.9em; } .bad { color: #b00; font-weight: bold; } .ok { color: #070; }
figure { margin: 0.5em 0; } figure svg { width: 100%; height: auto; }
"""


def escape(text):
    return html.escape(str(text), quote=True)


def figure_svg(fig, caption=None):
    """The figure as an inline <svg> inside a <figure>; closes the figure."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: not allowed inside HTML
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)  # RDF about matplotlib: not for readers
    caption_html = f"<figcaption class=\"note\">{escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{caption_html}</figure>"


def new_figure(width=9.0, height=3.2):
    fig, axes = plt.subplots(figsize=(width, height))
    axes.grid(True, alpha=0.3)
    return fig, axes


def table_html(df, formats=None, classes=None):
    """A DataFrame as an HTML table; formats: {column: callable(value) -> str};
    classes: {column: callable(value) -> css class or None}."""
    formats = formats or {}
    classes = classes or {}
    head = "".join(f"<th class=\"{'text' if df[c].dtype == object else ''}\">{escape(c)}</th>" for c in df.columns)
    rows = []
    for _, row in df.iterrows():
        cells = []
        for column in df.columns:
            value = row[column]
            text = formats[column](value) if column in formats else _default_format(value)
            css = [] if df[column].dtype != object else ["text"]
            if column in classes and classes[column](value):
                css.append(classes[column](value))
            cells.append(f"<td class=\"{' '.join(css)}\">{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _default_format(value):
    if isinstance(value, float):
        return "–" if value != value else f"{value:.4g}"
    return str(value)


def section(section_id, title, body):
    return f"<section id=\"{escape(section_id)}\"><h2>{escape(title)}</h2>{body}</section>"


def page(title, subtitle, sections):
    toc = "".join(f"<li><a href=\"#{escape(sid)}\">{escape(stitle)}</a></li>" for sid, stitle, _ in sections)
    body = "".join(section(sid, stitle, content) for sid, stitle, content in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><p class=\"note\">{escape(subtitle)}</p><ul>{toc}</ul>{body}</body></html>\n")


def format_ns(ns):
    try:
        ns = float(ns)
    except (TypeError, ValueError):
        return str(ns)
    if ns != ns:  # NaN
        return "–"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.4g} {unit}"
    return f"{ns:.0f} ns"


def format_percent(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "–" if x != x else f"{100 * x:.1f}%"

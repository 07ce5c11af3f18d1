"""Small markdown builders shared by every page, so that escaping and layout are decided once.

Catalog text is data, not markup: it is escaped wherever it lands (a table cell,
a link, an image's alt text), so a title holding `|`, `*` or `<` cannot break a
page.
"""

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sitegen import links

# Characters that mean something to Python-Markdown in running text, each escapable with a backslash
# ("<" is not: it becomes an entity).
MARKDOWN_SPECIALS = "\\`*_[]{}>|#"


@dataclass(frozen=True)
class Figure:
    """A drawn figure: where it is in the docs folder, its alt text and its caption."""

    path: str
    alt: str
    caption: str


def escape(text: str) -> str:
    """Catalog text as literal markdown on one line."""
    text = " ".join(text.split())
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else "&lt;" if c == "<" else c for c in text)


def link(text: str, target: str) -> str:
    """A link whose text is escaped; `target` is already a URL or a relative docs path."""
    return f"[{escape(text)}]({target})"


def page_link(text: str, from_page: str, to_page: str) -> str:
    """A link from one docs page to another (or to an #anchor on it)."""
    return link(text, links.relative(from_page, to_page))


def code(text: str) -> str:
    """Inline code, for names a reader types: detector names, slugs, head labels."""
    return f"`{text}`" if "`" not in text else escape(text)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A markdown table; cells are markdown already (escape catalog text before)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell.replace("\n", " ") or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def definitions(rows: Iterable[Sequence[str]]) -> str:
    """Name–value facts as a definition list (a table without a header would show an empty first row)."""
    return "\n\n".join(f"{escape(name)}\n:   {value}" for name, value in rows)


def front_matter(
    *,
    title: str,
    api: str | None = None,
    description: str | None = None,
    boost: float = 1.0,
    searched: bool = True,
    wide: bool = False,
) -> str:
    """YAML front matter: the title for the nav and the tab, the JSON twin, the page's weight in search.

    A wide page hides the side navigation and the table of contents, for a figure that needs the room.

    Written as JSON strings, which YAML reads as they are, so no title needs quoting rules of its own.
    """
    lines = [f"title: {json.dumps(title, ensure_ascii=False)}"]
    if description:
        lines.append(f"description: {json.dumps(' '.join(description.split()), ensure_ascii=False)}")
    if api:
        lines.append(f"api: {json.dumps(api)}")
    if wide:
        lines.append("hide:\n  - navigation\n  - toc")
    if not searched:
        lines.append("search:\n  exclude: true")
    elif boost != 1.0:
        lines.append(f"search:\n  boost: {boost}")
    return "---\n" + "\n".join(lines) + "\n---\n"


def json_twin(url: str, *more: str) -> str:
    """The line under a page's title that links its data in the API (and any related JSON)."""
    shown = " · ".join(f"[`{u}`]({u})" for u in (url, *more))
    return f'<small class="json-twin">JSON: {shown}</small>'


def figure(fig: Figure, from_page: str) -> str:
    """An image with its alt text and caption, loaded when scrolled to."""
    alt = escape(fig.alt).replace('"', "&quot;")
    src = links.relative(from_page, fig.path)
    return (
        '<figure class="atlas-figure" markdown="span">\n'
        f"  ![{alt}]({src}){{ loading=lazy }}\n"
        f"  <figcaption>{html.escape(fig.caption)}</figcaption>\n"
        "</figure>"
    )


def admonition(kind: str, title: str, body: str) -> str:
    """A material admonition (note, info, warning, …) with an escaped title; `body` is markdown."""
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'!!! {kind} "{html.escape(title)}"\n\n{indented}\n'


def collapsed(title: str, body: str) -> str:
    """A closed details block, for long material a reader opens on demand (evidence, BibTeX)."""
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'??? note "{html.escape(title)}"\n\n{indented}\n'


def fenced(language: str, text: str) -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}{language}\n{text.strip()}\n{fence}"


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def score(value: float | None) -> str:
    """A score as the site prints it: three significant digits, or a dash where there is none."""
    return "–" if value is None else f"{value:.3g}"


def estimate(value: float | None, low: float | None, high: float | None, pass_rate: float | None) -> str:
    """A mean score with its 95% interval and the share of seeds that passed: "0.812 [0.790, 0.830], 100% of seeds"."""
    text = score(value)
    if low is not None and high is not None:
        text += f" [{score(low)}, {score(high)}]"
    if pass_rate is not None:
        text += f", {pass_rate:.0%} of seeds"
    return text


def count(n: int, noun: str) -> str:
    """ "1 model", "2 models": a number with its noun."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def page(*parts: str) -> str:
    """A page from its blocks, separated by blank lines; empty blocks are dropped."""
    return "\n\n".join(part.strip("\n") for part in parts if part) + "\n"

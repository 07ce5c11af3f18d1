"""Drawing inline SVG as text: the shapes, colour scales and legend parts the site's interactive figures share.

Interactive figures (a run's heatmap, the matrix) are SVG written into the page
itself, so that each cell can be a link and tell its value on hover, which a
PNG cannot. Every element goes on a line of its own and no line is blank:
Python-Markdown passes such a block through untouched.
"""

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass

from matplotlib import colormaps
from matplotlib.colors import to_hex

# A cell with no value (not scored): pale grey struck through, which no colour map here uses.
EMPTY_FILL, EMPTY_STRIKE = "#f2f2f2", "#9e9e9e"
# How many steps a colour bar is drawn in.
BAR_STEPS = 32


@dataclass(frozen=True)
class Scale:
    """Scores to colours: a colour map over [low, high], or diverging around 0 when the scores have both signs."""

    low: float
    high: float
    colour_map: str
    outline: str  # the outline of a cell that passes, in a colour the map does not use
    outline_name: str

    def colour(self, value: float) -> str:
        return self.colour_at(self.position(value))

    def colour_at(self, position: float) -> str:
        """The colour a place on the bar has, 0 (low) to 1 (high)."""
        return to_hex(colormaps[self.colour_map](position))

    def position(self, value: float) -> float:
        """Where `value` falls on the bar, 0 (low) to 1 (high); around 0 for a diverging scale."""
        if self.diverging:
            half = value / self.high if value >= 0 else -value / self.low  # in [-1, 1] inside the scale
            return min(1.0, max(0.0, 0.5 + 0.5 * half))
        return min(1.0, max(0.0, (value - self.low) / (self.high - self.low)))

    @property
    def diverging(self) -> bool:
        return self.low < 0 < self.high


def scale_of(values: Iterable[float]) -> Scale:
    """Scores in [0, 1] share the one scale [0, 1]; scores of both signs diverge around 0; others span their range."""
    finite = [v for v in values if not math.isnan(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if low >= 0 and high <= 1:
        return Scale(0.0, 1.0, "viridis", "#ff1744", "red")
    if low < 0 < high:
        return Scale(low, high, "RdBu_r", "#00c853", "green")  # red would vanish on the red half
    return Scale(low, high if high > low else low + 1, "viridis", "#ff1744", "red")


def attributes(**values: object) -> str:
    """Escaped XML attributes; trailing underscores dropped (class_) and other underscores as hyphens."""
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{html.escape(str(value), quote=True)}"'
        for name, value in values.items()
        if value is not None
    )


def element(tag: str, text: str | None = None, **values: object) -> str:
    opening = " ".join([tag, attributes(**values)]).strip()
    return f"<{opening}/>" if text is None else f"<{opening}>{html.escape(text, quote=False)}</{tag}>"


def svg(width: float, height: float, title: str, body: list[str], *, class_: str, **data: object) -> str:
    """An SVG element with its accessible name (`title`, read as the alt text) and any data attributes."""
    size = attributes(class_=class_, width=round(width), height=round(height), **data)
    head = f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {round(width)} {round(height)}" role="img">'
    return "\n".join([head, element("title", title), *body, "</svg>"])


def colour_bar(scale: Scale, x: float, y: float, height: float, *, label: str, mark: float | None = None) -> list[str]:
    """A vertical colour bar from high (top) to low, its end values, and a line at `mark` (a threshold)."""
    step = height / BAR_STEPS
    parts = [
        element("rect", x=x, y=round(y + i * step, 2), width=10, height=round(step + 0.5, 2),
                fill=scale.colour_at(1 - (i + 0.5) / BAR_STEPS))
        for i in range(BAR_STEPS)
    ]  # fmt: skip
    parts.append(element("text", f"{scale.high:.3g}", x=x + 14, y=y + 8, class_="tick"))
    parts.append(element("text", f"{scale.low:.3g}", x=x + 14, y=y + height, class_="tick"))
    if scale.diverging:  # 0 sits mid-bar, whatever the two ends
        parts.append(element("text", "0", x=x + 14, y=round(y + height / 2 + 3, 2), class_="tick"))
    parts.append(element("text", label, x=x + 5, y=y + height + 14, class_="tick", text_anchor="middle"))
    if mark is not None and scale.low <= mark <= scale.high:
        at = y + (1 - scale.position(mark)) * height
        parts.append(element("line", x1=x - 3, x2=x + 13, y1=round(at, 2), y2=round(at, 2), stroke=scale.outline,
                             stroke_width=2))  # fmt: skip
    return parts


def empty_cell(x: float, y: float, width: float, height: float) -> str:
    """A cell that holds no value, struck through corner to corner."""
    box = element("rect", x=x, y=y, width=width, height=height, fill=EMPTY_FILL)
    strike = element("line", x1=x, y1=y + height, x2=x + width, y2=y, stroke=EMPTY_STRIKE, stroke_width=1)
    return box + strike


def diamond(cx: float, cy: float, radius: float) -> str:
    points = f"{cx},{cy - radius} {cx + radius},{cy} {cx},{cy + radius} {cx - radius},{cy}"
    return element("polygon", points=points, fill="white", stroke="black", stroke_width=0.8, pointer_events="none")

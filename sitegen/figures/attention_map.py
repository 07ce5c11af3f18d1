"""One head's attention on one prompt: queries down, keys across, the tokens' words on both axes.

The weights are a small PNG (one pixel per query and key, drawn sharp at any
size) inside an SVG that carries the token labels; darker is more weight, on
the one scale [0, 1] for every head (square root), so two heads' maps compare. Above the
diagonal, where a causal model cannot look, is pale grey. The SVG also holds
the weights as data, so that pointing at a cell reads the query token, the key
token and the weight under the figure (site/pages/javascripts/readout.js):
a few kilobytes a map, where a shape per cell would be hundreds.
"""

import base64
import io
import json

import numpy as np
from matplotlib import colormaps
from matplotlib.image import imsave

from catalog.attention import LEVELS, StoredAttention
from sitegen.figures.svg import element, svg

# A token's cell, in pixels, and room for the token labels (queries at the left, keys at the top).
CELL, LABEL = 11, 84
# Weights in [0, 1], white to dark blue; where a causal model cannot look, pale grey (RGBA).
WEIGHT_MAP = "Blues"
FUTURE_RGBA = (0.96, 0.96, 0.96, 1.0)
# The most characters of a token a label shows.
LABEL_CHARACTERS = 10


def token_text(token: str) -> str:
    """A token as a label: a space shown as a middle dot, a line break as ⏎, cut to LABEL_CHARACTERS."""
    shown = token.replace("\n", "⏎").replace(" ", "·") or "∅"
    return shown if len(shown) <= LABEL_CHARACTERS else shown[: LABEL_CHARACTERS - 1] + "…"


def weights_png(weights: np.ndarray) -> bytes:
    """float [query, key] in [0, 1] as a PNG, one pixel per weight, the causal mask's cells pale grey.

    Colours follow the square root of the weight, so that the spread-out weights most heads give most keys
    still show beside the one key a sharp head picks.
    """
    colours = colormaps[WEIGHT_MAP](np.sqrt(np.clip(weights, 0.0, 1.0)))  # [query, key, 4]
    colours[np.triu(np.ones(weights.shape, dtype=bool), k=1)] = FUTURE_RGBA
    buffer = io.BytesIO()
    imsave(buffer, colours, format="png")
    return buffer.getvalue()


def attention_map(attention: StoredAttention, layer: int, head: int, *, title: str, caption: str) -> str:
    """A figure of head (layer, head)'s weights among the prompt's kept tokens."""
    weights = attention.weights[layer, head]  # uint8 [query, key], steps of 1/LEVELS
    n = len(attention.tokens)
    side = LABEL + n * CELL
    source = "data:image/png;base64," + base64.b64encode(weights_png(weights / LEVELS)).decode()
    image = element("image", href=source, x=LABEL, y=LABEL, width=n * CELL, height=n * CELL,
                    preserveAspectRatio="none", class_="atlas-weights", style="image-rendering: pixelated")  # fmt: skip
    frame = element("rect", x=LABEL, y=LABEL, width=n * CELL, height=n * CELL, fill="none", stroke="#bdbdbd")
    picture = svg(
        side + 8,
        side + 8,
        title,
        [image, frame, *_labels(attention)],
        class_="atlas-attention",
        data_tokens=json.dumps([token_text(t) for t in attention.tokens], ensure_ascii=False),
        data_start=attention.start,
        data_weights=weights.tobytes().hex(),  # two hex digits a weight, row by row, in steps of 1/LEVELS
        data_levels=LEVELS,
    )
    return "\n".join([
        '<figure class="atlas-figure atlas-interactive">',
        picture,
        f"<figcaption>{caption}</figcaption>",
        '<p class="atlas-readout" aria-live="polite">Point at a cell for the query, the key and the weight.</p>',
        "</figure>",
    ])  # fmt: skip


def _labels(attention: StoredAttention) -> list[str]:
    """Each token's words beside its row (as a query) and above its column (as a key)."""
    parts = []
    for i, token in enumerate(attention.tokens):
        text, middle = token_text(token), LABEL + i * CELL + CELL / 2
        parts.append(element("text", text, x=LABEL - 3, y=middle + 3, class_="tick", text_anchor="end"))
        parts.append(element("text", text, x=middle + 3, y=LABEL - 3, class_="tick",
                             transform=f"rotate(-90 {middle + 3} {LABEL - 3})"))  # fmt: skip
    return parts

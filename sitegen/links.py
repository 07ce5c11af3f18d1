"""Where each kind of page and figure lives in the docs folder, and how one page links another.

Pages link each other with relative links to their markdown files, so that
mkdocs checks every one in strict mode and rewrites it for the built site; the
site is built with a file per page (`x.html`, not `x/`), so the built folder
works on any static host and from `file://` alike. Raw HTML (the figures drawn
as SVG) links the built pages with `built`. A page's JSON twin is a path
in the API, relative to the site's root too, which `headatlas serve` serves
beside the site.
"""

import posixpath

from api.paths import API_PREFIX, entry_path

# The API's root.
API_ROOT = API_PREFIX

# The pages that exist once, in the docs folder.
HOME = "index.md"
GUIDE = "guide.md"
PYTHON = "python.md"
STAGES = "stages/index.md"
HEAD_TYPES = "head-types/index.md"
MODELS = "models/index.md"
PAPERS = "papers/index.md"
METHODS = "methods.md"
BENCHMARKS = "benchmarks.md"
DATASETS = "datasets/index.md"
MATRIX = "matrix.md"
API_REFERENCE = "api-reference.md"  # not api/: every /api/ path belongs to the API itself


def stage_page(code: str) -> str:
    return f"stages/{code.lower()}.md"


def head_type_page(slug: str) -> str:
    return f"head-types/{slug}.md"


def model_page(slug: str) -> str:
    return f"models/{slug}.md"


def dataset_page(slug: str) -> str:
    return f"datasets/{slug}.md"


def paper_page(key: str) -> str:
    return f"papers/{key}.md"


def head_label(layer: int, head: int) -> str:
    return f"L{layer}H{head}"


def head_page(model: str, layer: int, head: int) -> str:
    return f"models/{model}/heads/L{layer}H{head}.md"


def reported_figure(model: str) -> str:
    return f"figures/models/{model}/reported-heads.png"


def depth_figure(code: str) -> str:
    return f"figures/stages/{code.lower()}-depth.png"


FRAMEWORK_FIGURE = "figures/framework.png"


def relative(from_page: str, target: str) -> str:
    """`target` (a docs path, maybe with an #anchor) as a link written on `from_page`."""
    path, _, anchor = target.partition("#")
    link = posixpath.relpath(path, posixpath.dirname(from_page) or ".")
    return f"{link}#{anchor}" if anchor else link


def built(from_page: str, target: str) -> str:
    """`target` (a docs path, maybe with an #anchor) as a link in raw HTML on `from_page`: to the built .html file."""
    path, _, anchor = target.partition("#")
    link = relative(from_page, path.removesuffix(".md") + ".html" if path.endswith(".md") else path)
    return f"{link}#{anchor}" if anchor else link


def anchor(text: str) -> str:
    """The id a heading or a hand-set anchor gets: lower case, words joined by hyphens."""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def api(kind: str, slug: str) -> str:
    """The JSON twin of a catalog entry (kind as in api.paths.ENTRY_PATHS)."""
    return entry_path(kind, slug)


def api_run(run_id: int) -> str:
    return f"{API_ROOT}/runs/{run_id}"


def api_head(model: str, layer: int, head: int) -> str:
    return f"{api('model', model)}/heads/{layer}/{head}"


def api_model_heads(model: str) -> str:
    return f"{api('model', model)}/heads"


def api_path(path: str) -> str:
    """Any other path of the API, e.g. /matrix."""
    return f"{API_ROOT}{path}"

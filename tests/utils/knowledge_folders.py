"""Knowledge folders for tests and benchmarks that write the catalog many times: small, and two that differ."""

import re
import shutil
from pathlib import Path

import yaml

from catalog.settings import KNOWLEDGE_DIR
from tests.utils.knowledge import edit_yaml, head_type

# What the second folder says differently from the first, so that a catalog mixing the two shows it.
CHANGED_HEAD_TYPE = "induction-head"
CHANGED_PAPER = "MathFrame_21_TCT_Anthropic"
DROPPED_REPORTS = "reported_heads/successor-pythia-1.4b.yaml"
SHORTENED_REPORTS = "reported_heads/ioi-gpt2-small.yaml"


def small_knowledge(target: Path) -> Path:
    """A copy of the shipped knowledge without the published head lists, and without the models only they name.

    Loads in about a second: the lists' 16,000 heads, and the 30,000 query heads of the models only the lists
    name, are what take the time of a full load.
    """
    shutil.copytree(KNOWLEDGE_DIR, target, ignore=shutil.ignore_patterns("datasets"))
    reported = {yaml.safe_load(path.read_text(encoding="utf-8"))["model"] for path in target.glob("reported_heads/*")}
    listed = set()
    for record in KNOWLEDGE_DIR.glob("datasets/*/dataset.yaml"):
        listed |= {entry["model"] for entry in yaml.safe_load(record.read_text(encoding="utf-8"))["lists"]}

    def drop_listed_only(data: dict) -> None:  # type: ignore[type-arg]
        data["models"] = [m for m in data["models"] if m["slug"] not in listed - reported]

    edit_yaml(target / "models.yaml", drop_listed_only)
    return target


def other_knowledge(source: Path, target: Path) -> Path:
    """A copy of `source` that says other things: a head type's texts, a paper's title, fewer reported heads."""
    shutil.copytree(source, target)

    def rewrite_head_type(data: dict) -> None:  # type: ignore[type-arg]
        entry = head_type(data, CHANGED_HEAD_TYPE)
        entry["summary"] = "Completes repeated patterns (the second folder's wording)."
        entry["description"] = entry["description"] + " The second folder adds this sentence."

    def retitle_paper(data: dict) -> None:  # type: ignore[type-arg]
        paper = next(entry for entry in data["papers"] if entry["key"] == CHANGED_PAPER)
        paper["title"] = paper["title"] + " (second folder)"
        paper["bibtex"] = re.sub(r"title=\{([^{}]*)\}", r"title={\1 (second folder)}", paper["bibtex"], count=1)

    def shorten_reports(data: dict) -> None:  # type: ignore[type-arg]
        first = data["groups"][0]
        first["heads"] = first["heads"][1:]
        first["evidence"] = "The second folder's evidence."

    edit_yaml(target / "head_types" / "lr.yaml", rewrite_head_type)
    edit_yaml(target / "papers.yaml", retitle_paper)
    edit_yaml(target / SHORTENED_REPORTS, shorten_reports)
    (target / DROPPED_REPORTS).unlink()
    return target


def two_knowledge_folders(root: Path) -> dict[str, Path]:
    """Folder A (small_knowledge) and folder B (other_knowledge of A), under `root`."""
    first = small_knowledge(root / "a")
    return {"A": first, "B": other_knowledge(first, root / "b")}

"""What `headatlas detectors` prints, kept so that listing detectors needs neither torch nor transformers.

Importing the detectors imports both (about four seconds). Their listing is
written once to the cache folder, under a digest of every file of the ingest
package and of the installed plugins' entry points, so that any change to a
detector, its data or the plugins lists afresh.
"""

import hashlib
import json
import os
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ingest.hookspecs import PLUGIN_GROUP

INGEST_DIR = Path(__file__).parent


def detector_rows(cache_dir: Path) -> list[dict[str, Any]]:
    """One row per registered detector: name, version, head type, method, rule, threshold and its source."""
    kept = cache_dir / "detectors" / f"listing-{_sources_digest()[:16]}.json"
    try:
        return json.loads(kept.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        rows = _listed()
    kept.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=kept.parent, delete=False, encoding="utf-8") as file:
        json.dump(rows, file)
    os.replace(file.name, kept)
    return rows


def _listed() -> list[dict[str, Any]]:
    from ingest.plugins import detectors

    return [
        {
            "name": d.name,
            "version": d.version,
            "head_type": d.head_type,
            "method": d.method,
            "rule": d.rule,
            "threshold": d.threshold,
            "threshold_source": d.threshold_source,
            "baseline": d.baseline_description,
        }
        for d in detectors().values()
    ]


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(INGEST_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(INGEST_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    for point in sorted(entry_points(group=PLUGIN_GROUP), key=lambda p: (p.name, p.value)):
        version = point.dist.version if point.dist else ""
        digest.update(f"{point.name}={point.value}@{version}".encode() + b"\0")
    return digest.hexdigest()

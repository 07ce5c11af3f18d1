"""Find or build the bundled GGUF model files offline, and check them before use.

The bundled models ship inside PyPI packages; ingest/model_sources.yaml says which and
how to get each file. Two of the packagings are unofficial, so every file is checked
against its recorded size and sha256. A verified hash is remembered in cache_dir, keyed
by path, size and mtime, so that the next call does not re-read half a gigabyte.
"""

import hashlib
import importlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from catalog.strict_parsing import ParseError, load_yaml, read_text
from ingest.knowledge_files import ModelSlug, Strict, Text, describe_validation_error

logger = logging.getLogger(__name__)

# Where each bundled model's file comes from, with its size and hash.
SOURCES_FILE = Path(__file__).with_name("model_sources.yaml")
# The short names loaders and the CLI accept, each with its catalog slug.
BundledName = Literal["smollm2", "gemma3", "qwen2.5-coder"]
BUNDLED: dict[BundledName, str] = {
    "smollm2": "smollm2-135m-instruct",
    "gemma3": "gemma-3-270m",
    "qwen2.5-coder": "qwen2.5-coder-0.5b-instruct",
}

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# Pinned exactly (name==version): another release may ship another file.
Requirement = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!]+$")]


class ModelFileError(ValueError):
    """A bundled model is unknown, missing or not the recorded file; the message says the fix."""


# An installed package's data file, found through its RECORD, never by importing it.
class Part(Strict):
    distribution: Text
    file: Text


# A file shipped as is inside a wheel.
class WheelFile(Part):
    kind: Literal["wheel-file"]


# A file written by the package's own assemble(output_path, overwrite=...) function.
class Assemble(Strict):
    kind: Literal["assemble"]
    module: Text
    file: Text


# A file made by concatenating installed data files in order.
class ConcatenatedParts(Strict):
    kind: Literal["concatenated-parts"]
    file: Text
    parts: list[Part] = Field(min_length=1)


# One entry of model_sources.yaml.
class ModelSource(Strict):
    slug: ModelSlug
    short_name: BundledName
    name: Text
    requirements: list[Requirement] = Field(min_length=1)
    make_target: Text
    source: Annotated[WheelFile | Assemble | ConcatenatedParts, Field(discriminator="kind")]
    size: int = Field(gt=0)
    sha256: Sha256
    quantization: Text
    license: Text

    def pinned(self) -> dict[str, str]:
        return dict(requirement.split("==") for requirement in self.requirements)

    def hint(self, *, reinstall: bool = False) -> str:
        """The command that installs (or repairs) this model's packages."""
        flags = "--force-reinstall --no-deps" if reinstall else "--no-deps"
        command = f"`pip install {flags} {' '.join(self.requirements)}`"
        return f"reinstall with {command}" if reinstall else f"run `make {self.make_target}` or {command}"


class SourcesFile(Strict):
    models: list[ModelSource] = Field(min_length=1)


@dataclass(frozen=True)
class BundledFile:
    """A GGUF file whose size and sha256 were checked: what the model loader opens."""

    slug: str
    path: Path
    sha256: str
    quantization: str


@lru_cache
def load_sources(path: Path = SOURCES_FILE) -> dict[str, ModelSource]:
    """Read model_sources.yaml, keyed by short name; it must list exactly the BUNDLED models."""
    try:
        raw = load_yaml(read_text(path))
        entries = SourcesFile.model_validate(raw).models
    except ParseError as error:
        raise ModelFileError(f"{path.name}: cannot be read: {error}") from error
    except ValidationError as error:
        raise ModelFileError(describe_validation_error(path.name, raw, error)) from error
    found = [(entry.short_name, entry.slug) for entry in entries]
    if sorted(found) != sorted(BUNDLED.items()):
        raise ModelFileError(f"{path.name} lists {found}; update BUNDLED ({BUNDLED}) to match")
    return {entry.short_name: entry for entry in entries}


def bundled_names() -> list[BundledName]:
    """The short names bundled_model_file accepts (it takes the catalog slugs too)."""
    return sorted(BUNDLED)


def find_source(name: str) -> ModelSource:
    """Look a bundled model up by short name or catalog slug."""
    for source in load_sources().values():
        if name in (source.short_name, source.slug):
            return source
    raise ModelFileError(
        f"Unknown bundled model {name!r}; choose one of {bundled_names()} or a slug of {sorted(BUNDLED.values())}"
    )


def missing_requirements(source: ModelSource) -> list[str]:
    """The pinned packages that are not installed at their pinned version."""
    missing = []
    for name, version in source.pinned().items():
        try:
            found = distribution(name).version
        except PackageNotFoundError:
            missing.append(f"{name}=={version}")
            continue
        if found != version:
            missing.append(f"{name}=={version} (found {found})")
    return missing


def bundled_model_file(name: str, cache_dir: Path) -> BundledFile:
    """Find or build a bundled model's GGUF file and check its size and sha256.

    Args:
        name: a short name from bundled_names() or a catalog slug.
        cache_dir: where built files and verified hashes are kept; created if missing.

    Returns:
        The checked file. A file that must be built is written once, atomically, and
        later calls only compare its size and mtime with the remembered ones.
    """
    source = find_source(name)
    missing = missing_requirements(source)
    if missing:
        raise ModelFileError(f"{source.name} is not installed (missing {', '.join(missing)}); {source.hint()}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    how = source.source
    path = _installed_file(how, source) if isinstance(how, WheelFile) else cache_dir / how.file
    if path.exists() and not _stamp_matches(path, source, cache_dir):
        try:
            _check(path, source, what=str(path))
        except ModelFileError as error:
            if isinstance(how, WheelFile):
                raise
            logger.warning("Rebuilding %s: %s", path, error)
            path.unlink()
    if not path.exists():
        _build(path, source)
    stamp, text = _stamp(path, source, cache_dir)
    stamp.write_text(text)
    return BundledFile(source.slug, path, source.sha256, source.quantization)


def _installed_file(part: Part, source: ModelSource) -> Path:
    path = Path(str(distribution(part.distribution).locate_file(part.file)))
    if not path.is_file():
        raise ModelFileError(f"{path} is missing; {source.hint(reinstall=True)}")
    return path


def _check(path: Path, source: ModelSource, *, what: str) -> None:
    size = path.stat().st_size
    digest = _sha256_file(path) if size == source.size else "not computed"
    if (size, digest) != (source.size, source.sha256):
        raise ModelFileError(
            f"{what} is not the recorded {source.name} file ({size} bytes, sha256 {digest}; "
            f"expected {source.size} bytes, sha256 {source.sha256}); {source.hint(reinstall=True)}"
        )


def _build(target: Path, source: ModelSource) -> None:
    """Write the file under a temporary name, check it, then rename it into place."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(fd)
    temporary = Path(name)
    logger.info("Building %s for %s", target, source.name)
    try:
        what = _write(temporary, source)
        _check(temporary, source, what=what)
        temporary.chmod(0o644)  # mkstemp makes it private; the model file is not secret
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _write(temporary: Path, source: ModelSource) -> str:
    """Write the model's file to `temporary`; return what was written, for error messages."""
    how = source.source
    if isinstance(how, Assemble):
        try:
            importlib.import_module(how.module).assemble(temporary, overwrite=True)
        except (ImportError, OSError, ValueError) as error:
            raise ModelFileError(f"{how.module}.assemble() failed: {error}; {source.hint(reinstall=True)}") from error
        return f"the file {how.module}.assemble() wrote"
    if not isinstance(how, ConcatenatedParts):
        raise ModelFileError(f"{source.name}: a {how.kind} file is not built")
    parts = [_installed_file(part, source) for part in how.parts]
    with temporary.open("wb") as out:
        for part in parts:
            with part.open("rb") as data:
                shutil.copyfileobj(data, out)
        out.flush()
        os.fsync(out.fileno())  # so that the rename never publishes a torn file
    return "the concatenation of " + ", ".join(str(part) for part in parts)


def _stamp(path: Path, source: ModelSource, cache_dir: Path) -> tuple[Path, str]:
    """Where the verified hash of `path` is remembered, and what it must say to still hold."""
    stat = path.stat()
    key = dict(path=str(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=source.sha256)
    return cache_dir / f"{path.name}.sha256.json", json.dumps(key)


def _stamp_matches(path: Path, source: ModelSource, cache_dir: Path) -> bool:
    stamp, expected = _stamp(path, source, cache_dir)
    return stamp.is_file() and stamp.read_text() == expected


def _sha256_file(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()

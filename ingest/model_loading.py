"""Load a model for verification: a bundled short name, a GGUF file, a local folder or a hub id.

GGUF weights are dequantized once and cached as a float32 folder, so that the
second load takes seconds instead of a minute. Remote code is never trusted,
and attention is always the eager implementation: capture needs the patterns.
A model goes to the device and dtype asked for (CPU float32 by default);
"auto" spreads it over the devices there are with accelerate's device map.
"""

import hashlib
import logging
import pickle
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from safetensors import SafetensorError, safe_open
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from ingest.checkpoint_folders import save_checkpoint
from ingest.families import FAMILIES
from ingest.model_files import BUNDLED, ModelFileError, bundled_model_file, bundled_names
from ingest.toy_checkpoint import TOY_NAME, TOY_TITLE
from ingest.toy_models import iteration_toy_folder, toy_task

logger = logging.getLogger(__name__)

Device = Literal["cpu", "cuda", "mps", "auto"]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelLoadError(ValueError):
    """The model could not be found or loaded; the message says what was tried."""


@dataclass(frozen=True)
class ModelFacts:
    """What the catalog records about a checkpoint."""

    slug: str
    name: str
    hub_id: str | None
    family: str
    kind: str  # pretrained | instruct
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_model: int
    positional: str
    quantization: str | None
    file_sha256: str | None
    # What the checkpoint is, whatever it is called: "gguf-sha256:…" (a bundled or given GGUF file),
    # "folder-sha256:…" (a local folder's files), "hub:<id>@<commit>" or "toy:<name>" (trained here).
    identity: str


@dataclass(frozen=True)
class LoadedModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    facts: ModelFacts
    placement: dict[str, str] = field(default_factory=lambda: {"device": "cpu", "dtype": "float32"})  # what runs record


def load_model(name: str, *, cache_dir: Path, device: str = "cpu", dtype: str = "float32") -> LoadedModel:
    """Load `name` (see `_load`) and place it on `device` in `dtype`; a device that is not there is refused."""
    options = _placement_options(device, dtype)
    loaded = _load(name, cache_dir=cache_dir, **options)
    if device != "auto":
        loaded.model.to(device)
    return LoadedModel(loaded.model, loaded.tokenizer, loaded.facts, {"device": device, "dtype": dtype})


def _placement_options(device: str, dtype: str) -> dict[str, Any]:
    if dtype not in DTYPES:
        raise ModelLoadError(f"Unknown dtype {dtype!r}; choose one of: {', '.join(DTYPES)}")
    if device not in get_args(Device):
        raise ModelLoadError(f"Unknown device {device!r}; choose one of: {', '.join(get_args(Device))}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("Device 'cuda' asked for, but torch sees no CUDA device here")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ModelLoadError("Device 'mps' asked for, but torch sees no MPS device here")
    options: dict[str, Any] = {"dtype": DTYPES[dtype]}
    if device == "auto":
        options["device_map"] = "auto"
    return options


@dataclass(frozen=True)
class Checkpoint:
    """What a name loads as (ModelFacts.slug and .identity), known before any weights are read."""

    slug: str
    identity: str


def known_checkpoint(name: str, *, cache_dir: Path) -> Checkpoint | None:
    """The checkpoint `name` would load, from its files alone; None for a hub id, which only a load resolves."""
    if name == TOY_NAME:
        return Checkpoint(TOY_NAME, f"toy:{TOY_NAME}")
    if name in bundled_names() or name in BUNDLED.values():
        bundled = bundled_model_file(name, cache_dir)
        return Checkpoint(bundled.slug, f"gguf-sha256:{bundled.sha256}")
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return Checkpoint(slugify(path.stem), f"gguf-sha256:{file_sha256(path)}")
    if path.is_dir() and (path / "config.json").is_file():
        digest = folder_digest(path)
        try:
            config = AutoConfig.from_pretrained(path, trust_remote_code=False)
        except UNREADABLE:
            return None  # the load says what is wrong with it
        return Checkpoint(_folder_slug(config, digest), f"folder-sha256:{digest}")
    return None


def _folder_slug(config: PretrainedConfig, digest: str) -> str:
    return slugify(f"{config.model_type}-{config.num_hidden_layers}l{config.num_attention_heads}h-{digest[:12]}")


def _load(name: str, *, cache_dir: Path, **options: Any) -> LoadedModel:
    """Load `name`, trying in turn: the toy model, bundled model, GGUF file, local folder, hub id.

    Args:
        name: "toy-iteration" (trained here on first use), a bundled short name
            or slug (see `headatlas models`), a path to a .gguf file, a folder
            with a transformers checkpoint, or a hub id.
        cache_dir: where dequantized GGUF models and the trained toy are kept.
    """
    if name == TOY_NAME:
        toy = _from_pretrained(iteration_toy_folder(cache_dir), **options)
        return _loaded(toy, TOY_NAME, f"toy:{TOY_NAME}", hub_id=None, quantization=None, sha256=None, name=TOY_TITLE)
    if name in bundled_names() or name in BUNDLED.values():
        bundled = bundled_model_file(name, cache_dir)
        quantization = f"GGUF {bundled.quantization}"
        return _load_gguf(bundled.path, bundled.sha256, quantization, bundled.slug, cache_dir, **options)
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        sha256 = file_sha256(path)
        return _load_gguf(path, sha256, None, slugify(path.stem), cache_dir, **options)
    if path.is_dir():
        return _load_folder(path, **options)
    if path.suffix == ".gguf" or name.startswith((".", "/", "~")):
        raise ModelLoadError(f"No model file or folder at {name!r}")
    try:
        pair = _from_pretrained(name, **options)
    except ModelLoadError as error:
        raise ModelLoadError(
            f"Unknown model {name!r}: not the toy ({TOY_NAME}), a bundled model ({', '.join(bundled_names())}), "
            f"a .gguf file or a local folder, and loading it as a hub id failed: {error.__cause__}"
        ) from error
    revision = getattr(pair[0].config, "_commit_hash", None) or "unpinned"
    return _loaded(pair, slugify(name), f"hub:{name}@{revision}", hub_id=name, quantization=None, sha256=None)


def _load_folder(path: Path, **options: Any) -> LoadedModel:
    """A local folder is named by its config and its files' digest, never by the folder's name alone."""
    digest = folder_digest(path)
    try:
        pair = _from_pretrained(path, **options)
    except ModelLoadError as error:
        bad = _unreadable_weights(path, error.__cause__)
        if bad is None:
            raise
        raise ModelLoadError(f"{bad}: not a weights file that can be read ({_one_line(error.__cause__)})") from error
    slug = _folder_slug(pair[0].config, digest)
    return _loaded(pair, slug, f"folder-sha256:{digest}", hub_id=None, quantization=None, sha256=None, name=path.name)


def _unreadable_weights(folder: Path, cause: BaseException | None) -> Path | None:
    """The folder's weights file that `cause` comes from, when it can be singled out."""
    for file in sorted(folder.glob("*.safetensors")):
        try:
            with safe_open(file, "pt"):
                pass
        except (SafetensorError, OSError):
            return file
    pickled = [file for file in sorted(folder.iterdir()) if file.suffix in PICKLED_WEIGHTS]
    return pickled[0] if len(pickled) == 1 and isinstance(cause, pickle.UnpicklingError | EOFError) else None


def _load_gguf(
    path: Path, sha256: str, quantization: str | None, slug: str, cache_dir: Path, **options: Any
) -> LoadedModel:
    converted = cache_dir / "converted" / f"{slug}-{sha256[:16]}"
    if not (converted / "config.json").is_file():
        _convert_gguf(path, converted)
    loaded = _from_pretrained(converted, **options)
    identity = f"gguf-sha256:{sha256}"
    return _loaded(loaded, slug, identity, hub_id=None, quantization=quantization or "GGUF", sha256=sha256)


def _convert_gguf(path: Path, target: Path) -> None:
    """Dequantize a GGUF file into a float32 checkpoint folder, atomically."""
    logger.warning("Dequantizing %s once; later loads use %s", path.name, target)
    try:
        model, tokenizer = _from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    except ModelLoadError as error:
        cause = error.__cause__ or error
        raise ModelLoadError(f"{path}: not a GGUF file that can be read ({_one_line(cause)})") from cause
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    save_checkpoint(model, tokenizer, target)


def _from_pretrained(source: Path | str, **options: Any) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    model_options = {"dtype": torch.float32, **options}
    tokenizer_options = {key: value for key, value in options.items() if key == "gguf_file"}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, **tokenizer_options)
        model = AutoModelForCausalLM.from_pretrained(
            source, trust_remote_code=False, attn_implementation="eager", **model_options
        )
    except UNREADABLE as error:
        raise ModelLoadError(f"Cannot load model {str(source)!r}: {_one_line(error)}") from error
    model.eval()
    model.requires_grad_(False)  # inference only: attribution takes gradients of activations, never of weights
    return model, tokenizer


# Suffixes of weights files torch pickles (loaded weights only, never run).
PICKLED_WEIGHTS = (".bin", ".pt", ".pth")
# What transformers, torch, gguf and safetensors raise on a file that is missing, truncated, or not what it says:
# a pickle that is refused (torch loads weights only), a short read, a header that does not parse.
UNREADABLE = (
    OSError,
    ValueError,
    KeyError,
    EOFError,
    struct.error,
    pickle.UnpicklingError,
    RuntimeError,
    SafetensorError,
)


def _one_line(error: BaseException) -> str:
    """The error's kind and first line: a bad file's message, not its traceback."""
    if isinstance(error, pickle.UnpicklingError):  # torch's own advice (load it unsafely) is not ours
        return "UnpicklingError: a pickled weights file holds more than tensors; it was refused without running it"
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _loaded(
    pair: tuple[PreTrainedModel, PreTrainedTokenizerBase],
    slug: str,
    identity: str,
    *,
    hub_id: str | None,
    quantization: str | None,
    sha256: str | None,
    name: str | None = None,
) -> LoadedModel:
    model, tokenizer = pair
    config = model.config
    if config.model_type not in FAMILIES:
        raise ModelLoadError(f"Model type {config.model_type!r} is not supported; supported: {sorted(FAMILIES)}")
    n_heads = config.num_attention_heads
    facts = ModelFacts(
        slug=slug,
        name=name or str(getattr(config, "_name_or_path", "") or slug),
        hub_id=hub_id,
        family=FAMILIES[config.model_type].name,
        kind=model_kind(config, slugify(name or slug)),
        n_layers=config.num_hidden_layers,
        n_heads=n_heads,
        n_kv_heads=getattr(config, "num_key_value_heads", None) or n_heads,
        d_model=config.hidden_size,
        positional=FAMILIES[config.model_type].positional,
        quantization=quantization,
        file_sha256=sha256,
        identity=identity,
    )
    return LoadedModel(model=model, tokenizer=tokenizer, facts=facts)


def model_kind(config: PretrainedConfig, slug: str) -> str:
    """toy (trained here on one synthetic task, see ingest.toy_models), instruct or pretrained."""
    if toy_task(config) is not None:
        return "toy"
    return "instruct" if any(word in slug for word in ("instruct", "chat", "-it")) else "pretrained"


def file_sha256(path: Path) -> str:
    """The file's sha256, hashed once per process while its size and mtime stay the same.

    A verification reads a checkpoint's hash twice (to see whether its runs are stored, then to load it).
    """
    stat = path.stat()
    return _sha256(path.resolve(), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=1024)
def _sha256(path: Path, _size: int, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_digest(folder: Path) -> str:
    """sha256 over each file's name and sha256, so that a copy of a checkpoint has one identity wherever it is."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        digest.update(f"{path.name}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def slugify(name: str) -> str:
    """A catalog slug for a model name: 'Qwen/Qwen2.5-0.5B' -> 'qwen--qwen2.5-0.5b'."""
    return name.lower().replace("/", "--").replace("_", "-").strip("-.")


__all__ = [
    "Checkpoint",
    "LoadedModel",
    "ModelFacts",
    "ModelFileError",
    "ModelLoadError",
    "known_checkpoint",
    "load_model",
]

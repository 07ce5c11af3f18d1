"""Loading models: bundled names, local folders, and clear errors for everything else."""

from pathlib import Path

import pytest
import torch

from ingest.model_loading import ModelLoadError, load_model, slugify

pytestmark = pytest.mark.model


def test_bundled_model_facts_come_from_its_config(smollm2) -> None:  # type: ignore[no-untyped-def]
    facts = smollm2.facts
    assert (facts.slug, facts.family, facts.n_layers, facts.n_heads, facts.n_kv_heads) == (
        "smollm2-135m-instruct",
        "llama",
        30,
        9,
        3,
    )
    assert facts.quantization == "GGUF Q4_1" and facts.positional == "rotary" and len(facts.file_sha256 or "") == 64


def test_attention_is_eager_so_patterns_can_be_captured(smollm2) -> None:  # type: ignore[no-untyped-def]
    assert smollm2.model.config._attn_implementation == "eager"


def test_a_local_checkpoint_folder_loads(smollm2, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    smollm2.model.save_pretrained(tmp_path / "SmolLM2-copy")
    smollm2.tokenizer.save_pretrained(tmp_path / "SmolLM2-copy")
    loaded = load_model(str(tmp_path / "SmolLM2-copy"), cache_dir=tmp_path)
    assert loaded.facts.quantization is None and loaded.facts.name == "SmolLM2-copy"


def test_a_local_folder_is_named_by_its_config_and_digest_not_its_folder_name(smollm2, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.utils.tiny_models import tiny_checkpoint

    folder = tiny_checkpoint("llama", smollm2.tokenizer, tmp_path / "smollm2-135m-instruct")
    facts = load_model(str(folder), cache_dir=tmp_path).facts
    assert facts.slug.startswith("llama-2l4h-") and facts.slug != "smollm2-135m-instruct"
    assert facts.identity.startswith("folder-sha256:") and facts.identity[-64:].startswith(facts.slug[-12:])


def test_a_truncated_gguf_file_is_one_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(100))
    with pytest.raises(ModelLoadError, match=r"truncated.gguf: not a GGUF file that can be read") as caught:
        load_model(str(bad), cache_dir=tmp_path)
    assert "\n" not in str(caught.value)


def test_a_pickle_payload_is_refused_without_running(tmp_path: Path) -> None:
    import os
    import pickle

    from tests.utils.tiny_models import tiny_model

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {tmp_path / 'ran'}",))

    folder = tmp_path / "pickled"
    tiny_model("gpt2", 100).save_pretrained(folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelLoadError, match=r"pytorch_model.bin: not a weights file .*UnpicklingError: a pickled"):
        load_model(str(folder), cache_dir=tmp_path)
    assert not (tmp_path / "ran").exists()


def test_a_truncated_safetensors_file_in_a_folder_is_named(tmp_path: Path) -> None:
    from tests.utils.tiny_models import tiny_model

    folder = tmp_path / "truncated"
    tiny_model("gpt2", 100).save_pretrained(folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match=r"model.safetensors: not a weights file that can be read \(Safetensor"):
        load_model(str(folder), cache_dir=tmp_path)


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="No model file or folder at"):
        load_model(str(tmp_path / "nothing.gguf"), cache_dir=tmp_path)


def test_an_unknown_name_lists_the_bundled_models_and_the_hub_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match=r"Unknown model 'nobody/no-such-model'.*smollm2"):
        load_model("nobody/no-such-model", cache_dir=tmp_path)


def test_remote_code_is_never_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def spy(source, **options):  # type: ignore[no-untyped-def]
        seen.append(options.get("trust_remote_code"))
        raise OSError("stop here")

    monkeypatch.setattr("ingest.model_loading.AutoTokenizer.from_pretrained", spy)
    with pytest.raises(ModelLoadError):
        load_model("someone/model", cache_dir=tmp_path)
    assert seen == [False]


def test_slugs_are_catalog_safe() -> None:
    assert slugify("Qwen/Qwen2.5-Coder-0.5B_Instruct") == "qwen--qwen2.5-coder-0.5b-instruct"


@pytest.mark.parametrize(
    ("placement", "message"),
    [({"dtype": "float8"}, "Unknown dtype 'float8'"), ({"device": "tpu"}, "Unknown device 'tpu'")],
)
def test_an_unknown_device_or_dtype_is_refused_before_loading(tmp_path, placement, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelLoadError, match=message):
        load_model("smollm2", cache_dir=tmp_path, **placement)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_without_a_cuda_device_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelLoadError, match="no CUDA device"):
        load_model("smollm2", cache_dir=tmp_path, device="cuda")

"""Head-output replacement on a tiny random Llama: it touches the positions asked for and nothing else."""

import torch
from transformers import AutoModelForCausalLM, LlamaConfig

from ingest.capture import capture
from ingest.interventions import replaced_head_outputs
from tests.utils.tiny_models import lens_of

CONFIG = LlamaConfig(
    vocab_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    hidden_size=32,
    intermediate_size=64,
)


def test_a_position_mask_replaces_every_marked_position_and_no_other() -> None:
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(CONFIG, attn_implementation="eager").eval()
    input_ids = torch.randint(1, 64, (2, 6), generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[:, 3:] = True
    values = torch.full((2, 4, 8), 7.0)  # [layer, head, d_head]
    with replaced_head_outputs(lens_of(model), [[0, 1]], values, mask):
        z = capture(
            lens_of(model), input_ids, torch.ones_like(input_ids)
        ).head_outputs  # [layer, batch, pos, head, d_head]
    assert bool((z[0, :, 3:, 1] == 7.0).all())
    assert not bool((z[0, :, :3, 1] == 7.0).any())
    assert not bool((z[0, :, 3:, 0] == 7.0).any())

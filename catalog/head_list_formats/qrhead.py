"""QRHead's head sets (princeton-pli/QRHead, src/qrretriever/configs/*_qr_head_*.yaml).

A YAML mapping whose `attn_head_set` is one string of comma-separated
"layer-head" pairs (0-based query heads, in rank order, no scores), beside the
model's hub id (`model_name_or_path`) and a short name (`model_base_class`).
"""

import yaml

from catalog.head_list_formats import FormatError, Grid, HeadListFormat, ListedHead, describe_parse_error, head_pair
from catalog.strict_parsing import ParseError, load_yaml


def read(text: str) -> list[ListedHead]:
    try:
        raw = load_yaml(text)
    except ParseError as error:
        raise FormatError(describe_parse_error(error)) from error
    if not isinstance(raw, dict) or not isinstance(raw.get("attn_head_set"), str):
        raise FormatError("expected a mapping with 'attn_head_set', a string of layer-head pairs")
    pairs = raw["attn_head_set"].split(",")
    return [ListedHead(*head_pair(pair, f"attn_head_set, entry {n}")) for n, pair in enumerate(pairs)]


def write(heads: list[ListedHead], grid: Grid) -> str:
    head_set = ",".join(f"{listed.layer}-{listed.head}" for listed in heads)  # in the order given: rank order
    fields = {"attn_head_set": head_set}
    if grid.hub_id:
        fields |= {"model_base_class": grid.hub_id.rsplit("/", 1)[-1], "model_name_or_path": grid.hub_id}
    return yaml.safe_dump(fields, sort_keys=False)


FORMAT = HeadListFormat("qrhead-yaml", "query-head", False, False, ".yaml", read, write)

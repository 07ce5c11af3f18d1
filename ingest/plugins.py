"""The detector registry: built-in detectors register through the same hook as plugins."""

import importlib
from functools import cache

import pluggy

from ingest import hookspecs
from ingest.detectors.base import Detector

# The built-in detector modules, each implementing register_detectors.
DEFAULT_PLUGINS = (
    "ingest.detectors.previous_token",
    "ingest.detectors.duplicate_token",
    "ingest.detectors.induction",
    "ingest.detectors.attention_sink",
    "ingest.detectors.positional",
    "ingest.detectors.rare_words",
    "ingest.detectors.subword_merge",
    "ingest.detectors.retrieval",
    "ingest.detectors.global_retrieval",
    "ingest.detectors.syntactic",
    "ingest.detectors.name_movers",
    "ingest.detectors.s_inhibition",
    "ingest.detectors.successor",
    "ingest.detectors.copy_suppression",
    "ingest.detectors.function_vector",
    "ingest.detectors.multiple_choice",
    "ingest.detectors.sentiment",
    "ingest.detectors.statement_probes",
    "ingest.detectors.knowledge_conflict",
    "ingest.detectors.negative_head",
    "ingest.detectors.letter_mover",
    "ingest.detectors.fact_heads",
    "ingest.detectors.semantic_induction",
    "ingest.detectors.mover_head",
    "ingest.detectors.iteration",
)


def load_plugins(*, entrypoints: bool = True) -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PLUGIN_GROUP)
    manager.add_hookspecs(hookspecs)
    for module in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(module))
    if entrypoints:
        manager.load_setuptools_entrypoints(hookspecs.PLUGIN_GROUP)
    return manager


@cache
def detectors(*, entrypoints: bool = True) -> dict[str, Detector]:
    """Every registered detector by name, built-ins first in DEFAULT_PLUGINS order."""
    found: dict[str, Detector] = {}
    # pluggy calls the last-registered plugin first; reversed, the built-ins come in DEFAULT_PLUGINS order.
    for batch in reversed(load_plugins(entrypoints=entrypoints).hook.register_detectors()):
        for detector in batch:
            if detector.name in found:
                raise ValueError(f"Two detectors are registered as {detector.name!r}")
            found[detector.name] = detector
    return found  # in registration order, which keeps detectors that share a probe together


def get_detector(name: str) -> Detector:
    registry = detectors()
    if name not in registry:
        raise ValueError(f"Unknown detector {name!r}; choose one of {sorted(registry)}")
    return registry[name]

"""Each detector's run is labelled with a method of the catalog, and the label says what its code does."""

import inspect

import pytest

from catalog.settings import KNOWLEDGE_DIR
from ingest.knowledge import load_knowledge
from ingest.plugins import detectors

METHODS = {
    method.slug
    for family in load_knowledge(KNOWLEDGE_DIR).methods.families
    for kind in family.kinds
    for method in kind.methods
}


@pytest.mark.parametrize("name", sorted(detectors(entrypoints=False)))
def test_each_detector_names_a_method_of_the_catalog(name: str) -> None:
    method = detectors(entrypoints=False)[name].method
    assert method in METHODS, f"{name}: method {method!r} is not in methods.yaml; choose one of {sorted(METHODS)}"


@pytest.mark.parametrize("name", sorted(detectors(entrypoints=False)))
def test_a_detector_that_estimates_patching_from_gradients_is_labelled_attribution_patching(name: str) -> None:
    detector = detectors(entrypoints=False)[name]
    estimates = "patching_effects(" in inspect.getsource(inspect.getmodule(type(detector)))  # type: ignore[arg-type]
    assert (detector.method == "attribution-patching") == estimates

"""Extension points: third-party packages add detectors through the `headatlas` entry-point group."""

import pluggy

PLUGIN_GROUP = "headatlas"  # the entry-point group, and pluggy's project name
hookspec = pluggy.HookspecMarker(PLUGIN_GROUP)
hookimpl = pluggy.HookimplMarker(PLUGIN_GROUP)


@hookspec
def register_detectors():  # type: ignore[no-untyped-def]
    """Return a list of Detector objects."""

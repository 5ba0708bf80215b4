"""What ``zoo info`` shows: an architecture's provider, defaults, hyperparameter schema and size."""

from __future__ import annotations

from typing import Any

from .registry import default_registry


def describe(name: str, num_classes: int | None = None) -> dict[str, Any]:
    """A JSON-ready description of an architecture; with ``num_classes``, also its parameter count.

    Without ``num_classes`` nothing heavy is imported; with it the model is built (TensorFlow is imported).

    >>> info = describe("basic")
    >>> info["name"], info["defaults"]["units"], info["hyperparameters"][0]["name"], info["custom_objects"]
    ('lstm', 128, 'input', [])
    """
    arch = default_registry().get(name)
    info: dict[str, Any] = {
        "name": arch.name,
        "aliases": list(arch.aliases),
        "summary": arch.summary,
        "plugin": arch.plugin,
        "package": arch.package,
        "version": arch.version,
        "module": arch.module,
        "preset_of": arch.preset_of,
        "source": arch.module if arch.preset_of else "",
        "inputs": list(arch.inputs),
        "defaults": dict(arch.defaults),
        "hyperparameters": [
            {"name": p.name, "type": p.describe(), "default": arch.defaults.get(p.name), "help": p.help}
            for p in arch.schema.values()
        ],
        "waivers": dict(arch.waivers),
        "custom_objects": list(arch.custom_objects),
        "catalog": arch.catalog,
    }
    if num_classes is not None:
        info["parameters"] = int(arch.build(num_classes).count_params())
    return info

"""The :class:`Architecture` record: what the registry knows about one architecture, and how to build it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .discovery import import_object
from .errors import PluginError
from .hyperparameters import Hyperparameters, Param, resolve


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: its metadata and a way to build it.

    >>> import zoo
    >>> arch = zoo.get("bidirectional")
    >>> arch.name, arch.plugin, arch.defaults["units"]
    ('bilstm', 'bilstm', 64)
    """

    name: str
    aliases: tuple[str, ...]
    summary: str
    plugin: str
    package: str
    version: str
    module: str
    inputs: tuple[str, ...]
    defaults: dict[str, Any]
    schema: dict[str, Param]
    builder: Callable[..., Any] = field(repr=False)
    test_hyperparameters: dict[str, Any] = field(default_factory=dict, repr=False)
    waivers: dict[str, str] = field(default_factory=dict, repr=False)
    preset_of: str | None = None
    custom_objects: tuple[str, ...] = ()  # "module:ClassName" the saved model needs (the catalog's custom_objects)
    catalog: str = field(default="", repr=False)  # the catalog file that describes it

    @property
    def who(self) -> str:
        """How messages name it: ``plugin 'gru' (zoo-gru 0.1.0), architecture 'gru'``."""
        return f"plugin '{self.plugin}' ({self.package} {self.version}), architecture '{self.name}'"

    @property
    def masks_padding(self) -> bool:
        """Whether padding never changes this architecture's predictions, as the contract's ``variable_length``
        check verifies (unless the catalog waives it): then training may cut batches to their longest row and
        prediction may sort rows by length.

        >>> import zoo
        >>> zoo.get("lstm").masks_padding
        True
        """
        return "variable_length" not in self.waivers

    def hyperparameters(self, **overrides: Any) -> Hyperparameters:
        """Validate ``overrides`` against the schema and merge them into the defaults.

        >>> import zoo
        >>> zoo.get("lstm").hyperparameters(units=32).units
        32
        """
        return resolve(self.name, self.schema, self.defaults, overrides, self.inputs)

    def build(self, num_classes: int, **overrides: Any) -> Any:
        """Build and compile a ``keras.Model`` for ``num_classes`` classes; see :func:`zoo.build`."""
        from .builder import build_model

        return build_model(self, num_classes, self.hyperparameters(**overrides))

    def load_custom_objects(self) -> dict[str, Any]:
        """Import what a saved model of this architecture needs to load, keyed by the name Keras saved it under:
        the classes its catalog declares under ``custom_objects``, plus the zoo's own mask-aware layers.

        Pass the result to ``keras.saving.load_model(path, custom_objects=...)``. Imports Keras; a declared object
        that cannot be imported is a :class:`PluginError` naming the plugin, its package and version and the import.

        >>> import zoo
        >>> sorted(zoo.get("lstm").load_custom_objects())[:1]
        ['zoo>AttentionPooling1D']
        """
        from .layers import custom_objects

        objects = custom_objects()
        import keras  # custom_objects() has imported it

        for ref in self.custom_objects:
            try:
                obj = import_object(ref)
            except Exception as e:
                raise PluginError(f"{self.who}: cannot import custom object '{ref}' (from custom_objects in "
                                  f"{self.catalog or 'its catalog'}): {type(e).__name__}: {e}") from None
            objects[keras.saving.get_registered_name(obj)] = obj
        return objects

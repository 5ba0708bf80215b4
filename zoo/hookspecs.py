"""The zoo's hook specifications (pluggy) and the markers plugins use.

A plugin is a module named by an entry point in the ``zoo.plugins`` group. It implements one hook:

.. code-block:: python

    import zoo

    @zoo.hookimpl
    def register_architectures(register):
        register("gru", build, catalog=CATALOG)

The built-in architectures (``zoo.plugins.lstm`` and friends) are registered exactly this way.
"""

from __future__ import annotations

import pluggy

PROJECT = "zoo"
ENTRY_POINT_GROUP = "zoo.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_architectures(register):  # type: ignore[no-untyped-def]
    """Register architectures by calling ``register(name, build, catalog=PATH)`` once per architecture.

    ``build(num_classes, hp)`` returns an *uncompiled* ``keras.Model`` ending in a softmax over ``num_classes``
    units; ``hp`` is a :class:`zoo.Hyperparameters`. ``catalog`` is the path of a YAML file, shipped in the
    plugin's package, with an entry for ``name`` in the schema of the zoo's ``registry.yaml``.
    Import TensorFlow/Keras inside ``build``, never at module level: listing must stay instant.
    """

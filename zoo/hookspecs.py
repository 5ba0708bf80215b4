"""The zoo's hook specifications (pluggy) and the markers plugins use.

A plugin is a module named by an entry point in the ``zoo.plugins`` group. It implements one or both hooks:

.. code-block:: python

    import zoo

    @zoo.hookimpl
    def register_architectures(register):
        register("gru", build, catalog=CATALOG)

    @zoo.hookimpl
    def register_callbacks(register):
        register("mlflow", make_callback, help="log params and per-epoch metrics to MLflow")

The built-in architectures (``zoo.plugins.lstm`` and friends) and the ``tensorboard`` callback are registered
exactly this way. A hook implementation may take fewer arguments than its spec, never more.
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


@hookspec
def register_callbacks(register):  # type: ignore[no-untyped-def]
    """Register training callbacks by calling ``register(name, factory, help="one line")`` once per callback.

    ``factory(context)`` gets a :class:`zoo.CallbackContext` (the run's directory, config, architecture, seed and
    whether this process is the chief) and returns a ``keras.callbacks.Callback``, or None to add nothing to this
    run. ``zoo train --NAME`` adds the callback named NAME. Import Keras inside the factory, never at module level.
    """

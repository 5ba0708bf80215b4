"""Training callbacks contributed by plugins: what a callback factory is given, and the record of one registration.

A plugin implements the ``register_callbacks(register)`` hook and calls ``register(name, factory, help=...)``;
``factory(context)`` returns a ``keras.callbacks.Callback`` (or None to add nothing, e.g. on a non-chief worker),
importing Keras inside the factory. The built-in ``tensorboard`` plugin is one such plugin. Nothing here imports
TensorFlow: :meth:`CallbackPlugin.make` imports Keras only to check what a factory returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import NAME_RE
from .errors import PluginError, ZooError


@dataclass(frozen=True)
class CallbackContext:
    """What a callback factory knows about the run it is added to.

    - ``run_dir``: the directory the run is being written to; files a callback writes there end up in the
      finished run (TensorBoard logs go to ``run_dir / "logs"``).
    - ``config``: the run's JSON-ready configuration (architecture, ``hyperparameters``, data, seed, ...).
    - ``architecture``: the architecture's name; ``seed``: the run's seed, or None.
    - ``is_chief``: False on the non-chief workers of a multi-worker run, where a callback that writes files or
      talks to a tracking server should usually do nothing (return None from the factory).

    >>> from pathlib import Path
    >>> ctx = CallbackContext(Path("runs/bilstm"), {"hyperparameters": {"units": 64}}, "bilstm", seed=0)
    >>> ctx.run_dir / "logs", ctx.is_chief
    (PosixPath('runs/bilstm/logs'), True)
    """

    run_dir: Path
    config: dict = field(default_factory=dict)
    architecture: str = ""
    seed: int | None = None
    is_chief: bool = True


@dataclass(frozen=True)
class CallbackPlugin:
    """A registered training callback: its name, one line of help, its provider, and the factory that makes it."""

    name: str
    help: str
    plugin: str
    package: str
    version: str
    factory: Callable[[CallbackContext], Any] = field(repr=False)

    @property
    def who(self) -> str:
        return f"plugin '{self.plugin}' ({self.package} {self.version}), callback '{self.name}'"

    def make(self, context: CallbackContext) -> Any:
        """Call the factory; a ``keras.callbacks.Callback``, or None when it has nothing to add for this run.

        A factory that raises or returns something else is a :class:`PluginError` naming the plugin.
        """
        try:
            callback = self.factory(context)
        except ZooError:
            raise
        except Exception as e:
            raise PluginError(f"{self.who}: the factory failed with {type(e).__name__}: {e}") from e
        if callback is None:
            return None
        import keras

        if not isinstance(callback, keras.callbacks.Callback):
            raise PluginError(f"{self.who}: the factory must return a keras.callbacks.Callback or None, got "
                              f"{type(callback).__name__}.")
        return callback


def check_registration(name: Any, factory: Any, help: Any) -> None:
    """Refuse a malformed ``register(name, factory, help=...)`` call with a message the plugin's author can act on."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise PluginError(f"register_callbacks: callback name {name!r}: use lower-case letters, digits, '_' or '-', "
                          "starting with a letter (it becomes the `zoo train --NAME` flag).")
    if not callable(factory):
        raise PluginError(f"register({name!r}, ...): factory must be callable, got {type(factory).__name__}.")
    if not isinstance(help, str) or not help.strip() or "\n" in help.strip():
        raise PluginError(f"register({name!r}, ...): help must be one line of text, got {help!r}.")


__all__ = ["CallbackContext", "CallbackPlugin"]

"""The zoo's one error family.

Every mistake a user can make (an unknown name, a bad hyperparameter, a malformed catalog or data file, a
broken plugin) raises a subclass of :class:`ZooError` whose message says what was received, what was
expected and how to fix it. The CLI prints such errors as one line on stderr and exits with status 2.
"""

from __future__ import annotations


class ZooError(Exception):
    """Base class of every error the zoo raises for a user mistake.

    >>> try:
    ...     raise ZooError("something was wrong")
    ... except ZooError as e:
    ...     print(e)
    something was wrong
    """


class UnknownArchitectureError(ZooError):
    """No architecture (or alias, or preset) has the requested name."""


class HyperparameterError(ZooError):
    """A hyperparameter is unknown, of the wrong type or out of its range."""


class CatalogError(ZooError):
    """A catalog or preset YAML file is malformed: the message names the file, line and key."""


class PluginError(ZooError):
    """A plugin is broken, conflicts with another, or violates the contract."""


class ContractError(PluginError):
    """A built model breaks the contract (softmax head over ``num_classes`` units, float32 output)."""


class DataError(ZooError):
    """A data file is malformed: the message names the file, the row or line and the problem."""


class ZooWarning(UserWarning):
    """A problem the zoo works around, such as a plugin that failed to load (the rest keep working)."""

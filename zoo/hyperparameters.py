"""Hyperparameter schemas, validation and the read-only mapping builders receive.

Each architecture declares its hyperparameters in its catalog entry (type, range, choices). The zoo adds the
zoo-wide ones every architecture takes (:data:`COMMON`): the input mode, the label mode, the optimizer and the
numeric precision. Values are checked before any model is built, so a typo never costs a TensorFlow import.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import HyperparameterError

TYPES = ("int", "float", "str", "bool", "list[int]")
# YAML 1.1 (PyYAML) reads `1e-3` as a string: floats need a dot there. Accept the YAML 1.2 / Python spelling.
_EXP_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


@dataclass(frozen=True)
class Param:
    """The schema of one hyperparameter.

    >>> units = Param("units", "int", min=1, max=4096)
    >>> units.validate(64, "bilstm")
    64
    >>> units.describe()
    'int, 1..4096'
    """

    name: str
    type: str
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    nullable: bool = False
    min_length: int | None = None
    help: str = ""
    search: Any = None

    def describe(self) -> str:
        """A short human description: type, range or choices, nullability."""
        text = self.type
        if self.choices is not None:
            text += " in {" + ", ".join(map(str, self.choices)) + "}"
        elif self.min is not None or self.max is not None:
            lo = "" if self.min is None else _num(self.min)
            hi = "" if self.max is None else _num(self.max)
            text += f", {lo}..{hi}"
        if self.nullable:
            text += ", or null"
        return text

    def validate(self, value: Any, where: str) -> Any:
        """Return ``value`` (ints widened to float for float params) or raise :class:`HyperparameterError`."""
        if value is None:
            if self.nullable:
                return None
            raise self._error(value, where, "it cannot be null")
        if self.type == "list[int]":
            # a single int is accepted as a one-item list, as Keras does for e.g. `units`
            seq = isinstance(value, (tuple, list))
            items = [self._check_scalar(v, "int", where, value) for v in (value if seq else [value])]
            if self.min_length is not None and len(items) < self.min_length:
                raise self._error(value, where, f"it needs at least {self.min_length} item(s)")
            return items
        return self._check_scalar(value, self.type, where, value)

    def _check_scalar(self, v: Any, kind: str, where: str, whole: Any) -> Any:
        if kind == "float" and isinstance(v, str) and _EXP_FLOAT.match(v.strip()):
            v = float(v)
        is_bool = isinstance(v, bool) or (type(v).__module__ == "numpy" and type(v).__name__ in ("bool", "bool_"))
        ok = {
            "int": isinstance(v, numbers.Integral) and not is_bool,
            "float": isinstance(v, numbers.Real) and not is_bool,
            "str": isinstance(v, str),
            "bool": is_bool,
        }[kind]
        if not ok:
            raise self._error(whole, where, f"expected {self.describe()}")
        if kind == "int":
            v = int(v)  # numpy integers become plain ints (they must survive JSON and YAML)
        elif kind == "bool":
            v = bool(v)
        elif kind == "float":
            v = float(v)
            if v != v or v in (float("inf"), float("-inf")):
                raise self._error(whole, where, "it must be a finite number")
        if self.choices is not None and v not in self.choices:
            raise self._error(whole, where, f"expected one of {', '.join(map(str, self.choices))}")
        if self.min is not None and v < self.min or self.max is not None and v > self.max:
            raise self._error(whole, where, f"expected {self.describe()}")
        return v

    def _error(self, value: Any, where: str, why: str) -> HyperparameterError:
        return HyperparameterError(f"Bad value {value!r} for hyperparameter '{self.name}' of '{where}': {why}.")


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


# The hyperparameters every architecture takes; a catalog may change their defaults (e.g. optimizer: rmsprop).
COMMON: dict[str, Param] = {
    p.name: p
    for p in (
        Param("input", "str", choices=("tokens", "features"),
              help="tokens: integer ids through an Embedding; features: float vectors (samples, timesteps, features)"),
        Param("num_features", "int", min=1, max=1_000_000, nullable=True,
              help="features per timestep (required with input=features)"),
        Param("labels", "str", choices=("categorical", "sparse"),
              help="categorical: one-hot labels, categorical cross-entropy; sparse: integer labels"),
        Param("optimizer", "str", choices=("adam", "adamw", "nadam", "rmsprop", "sgd"), help="Keras optimizer"),
        Param("learning_rate", "float", min=1e-9, max=10.0, nullable=True,
              help="optimizer learning rate; null = the optimizer's default",
              search={"min": 1e-4, "max": 1e-2, "log": True}),
        Param("precision", "str", choices=("float32", "mixed_float16", "mixed_bfloat16"),
              help="dtype policy; the softmax head always computes in float32"),
    )
}
COMMON_DEFAULTS: dict[str, Any] = {
    "input": "tokens",
    "num_features": None,
    "labels": "categorical",
    "optimizer": "adam",
    "learning_rate": None,
    "precision": "float32",
}


class Hyperparameters(Mapping):
    """The validated, read-only hyperparameters a builder receives; keys are also attributes.

    >>> hp = Hyperparameters({"units": 64, "input": "tokens"})
    >>> hp.units, hp["input"]
    (64, 'tokens')
    >>> hp.replace(units=8).units
    8
    """

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"no hyperparameter {key!r}; have: {', '.join(self._values)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Hyperparameters({self._values!r})"

    def replace(self, **changes: Any) -> "Hyperparameters":
        """A copy with some values changed (no validation: use ``Architecture.hyperparameters`` for that)."""
        return Hyperparameters({**self._values, **changes})


def resolve(
    name: str,
    schema: Mapping[str, Param],
    defaults: Mapping[str, Any],
    overrides: Mapping[str, Any],
    inputs: tuple[str, ...],
) -> Hyperparameters:
    """Merge defaults and overrides, validating every value against ``schema``."""
    unknown = [k for k in overrides if k not in schema]
    if unknown:
        import difflib

        key = unknown[0]
        close = difflib.get_close_matches(key, list(schema), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        valid = ", ".join(f"{p.name} ({p.describe()})" for p in schema.values())
        raise HyperparameterError(f"Unknown hyperparameter '{key}' for '{name}'.{hint} Valid: {valid}.")
    values = {k: schema[k].validate(v, name) for k, v in {**defaults, **overrides}.items()}
    if values["input"] not in inputs:
        raise HyperparameterError(
            f"'{name}' does not accept input={values['input']!r}; it accepts: {', '.join(inputs)}."
        )
    if values["input"] == "features" and values.get("num_features") is None:
        raise HyperparameterError(
            f"input='features' needs num_features (the size of each timestep's vector) for '{name}': "
            "pass num_features=F."
        )
    return Hyperparameters(values)


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a CLI ``KEY=VALUE``; the value is read as YAML, so ``64``, ``0.2``, ``null``, ``[256,128]`` work.

    >>> parse_assignment("units=256,128")
    ('units', [256, 128])
    >>> parse_assignment("seq_len=null")
    ('seq_len', None)
    >>> parse_assignment("learning_rate=1e-3")
    ('learning_rate', 0.001)
    """
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise HyperparameterError(f"Bad --set {text!r}: expected KEY=VALUE, e.g. --set units=64.")
    raw = raw.strip()
    if "," in raw and not raw.startswith("["):
        raw = f"[{raw}]"
    try:
        value = yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str) and _EXP_FLOAT.match(value):
        value = float(value)
    return key.strip(), value


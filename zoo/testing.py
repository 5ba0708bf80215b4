"""The contract suite: the checks every architecture must pass, for the zoo and for plugin authors.

Run it as ``zoo check [NAME...]``, from Python with :func:`run_checks`, or from a plugin's own pytest suite::

    from zoo.testing import parametrize_with_checks

    @parametrize_with_checks(["gru"])
    def test_zoo_contract(check):
        check()

Each check builds a small model (the architecture's ``test_hyperparameters``) and asserts behaviour: the output
is a probability distribution over exactly ``num_classes`` classes, float32 even under mixed precision, a
training step gives a finite loss, a ``.keras`` round trip predicts identically, masking makes padding
invisible, and so on. A check may be waived in the architecture's catalog entry with a written reason, except
``softmax_head``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .contract import CHECKS, ONCE, check_head
from .errors import ZooError
from .registry import Architecture, Registry, default_registry

CLASS_COUNTS = (2, 3, 7, 46)
HEAVY_MODULES = ("tensorflow", "keras", "jax", "torch")
NUM_FEATURES = 3  # feature width used when checking the `features` input mode
VAR_SEQ_LEN = 9  # padded length used when checking variable-length models


class CheckFailed(AssertionError):
    """A contract check found the architecture misbehaving; the message says what and by how much."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# -- helpers -----------------------------------------------------------------------------------------------------
def _build(arch: Architecture, num_classes: int, **extra: Any) -> Any:
    return arch.build(num_classes, **{**arch.test_hyperparameters, **extra})


def _hp(arch: Architecture, **extra: Any) -> Any:
    return arch.hyperparameters(**{**arch.test_hyperparameters, **extra})


def _features_extra(arch: Architecture, mode: str) -> dict[str, Any]:
    return {"input": mode, "num_features": NUM_FEATURES} if mode == "features" else {"input": mode}


def _batch(hp: Any, lengths: list[int], seed: int = 0) -> Any:
    """A right-padded batch for ``hp``'s input mode: row i has ``lengths[i]`` real steps, then padding."""
    import numpy as np

    rng = np.random.default_rng(seed)
    width = hp.seq_len or max(lengths)
    if hp.input == "tokens":
        x = np.zeros((len(lengths), width), dtype="int32")
        for i, n in enumerate(lengths):
            x[i, :n] = rng.integers(1, hp.vocab_size, size=n)
    else:
        x = np.zeros((len(lengths), width, hp.num_features), dtype="float32")
        for i, n in enumerate(lengths):
            x[i, :n] = rng.normal(size=(n, hp.num_features)) + 0.1  # never an all-zero (masked) step
    return x


def _full_lengths(hp: Any, batch: int) -> list[int]:
    return [hp.seq_len or VAR_SEQ_LEN] * batch


def _check_probabilities(p: Any, batch: int, num_classes: int, tol: float = 1e-5) -> None:
    import numpy as np

    _require(p.shape == (batch, num_classes), f"output shape {p.shape}, expected {(batch, num_classes)}")
    _require(bool(np.isfinite(p).all()), "output has NaN or inf")
    _require(bool((p >= 0).all()), f"negative probability {p.min():.3g}")
    err = float(np.abs(p.sum(axis=1) - 1).max())
    _require(err <= tol, f"rows sum to 1 within {err:.2e}, expected within {tol:g}")


def _predict(model: Any, x: Any) -> Any:
    import numpy as np

    return np.asarray(model(x, training=False), dtype="float64")


# -- the checks --------------------------------------------------------------------------------------------------
def check_softmax_head(arch: Architecture, num_classes: int) -> None:
    """The last layer is a float32 softmax over num_classes units; rows are probabilities summing to 1."""
    model = _build(arch, num_classes)
    check_head(model, num_classes, arch.name)
    hp = _hp(arch)
    _check_probabilities(_predict(model, _batch(hp, _full_lengths(hp, 4))), 4, num_classes)


def check_mixed_precision(arch: Architecture, num_classes: int) -> None:
    """Under the mixed_float16 policy the output is still float32 probabilities."""
    model = _build(arch, num_classes, precision="mixed_float16")
    _require(str(model.output.dtype) == "float32", f"output dtype {model.output.dtype} under mixed_float16")
    hp = _hp(arch)
    import keras

    p = model(_batch(hp, _full_lengths(hp, 3)), training=False)
    dtype = keras.backend.standardize_dtype(p.dtype)
    _require(dtype == "float32", f"predictions are {dtype} under mixed_float16, expected float32")
    _check_probabilities(_predict(model, _batch(hp, _full_lengths(hp, 3))), 3, num_classes, tol=1e-5)


def _train_step(arch: Architecture, num_classes: int, labels: str) -> None:
    import numpy as np

    model = _build(arch, num_classes, labels=labels)
    hp = _hp(arch, labels=labels)
    x = _batch(hp, _full_lengths(hp, 8))
    y = np.arange(8) % num_classes
    if labels == "categorical":
        from .data import targets

        y = targets(y, num_classes, "categorical")
    before = [w.numpy().copy() for w in model.trainable_weights]
    loss = model.train_on_batch(x, y, return_dict=True)["loss"]
    _require(bool(np.isfinite(loss)), f"{labels} labels: loss is {loss}")
    changed = any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))
    _require(changed, f"{labels} labels: a training step left every weight unchanged")


def check_train_categorical(arch: Architecture, num_classes: int) -> None:
    """One training step on one-hot labels (categorical cross-entropy) gives a finite loss and moves weights."""
    _train_step(arch, num_classes, "categorical")


def check_train_sparse(arch: Architecture, num_classes: int) -> None:
    """One training step on integer labels (sparse categorical cross-entropy) gives a finite loss."""
    _train_step(arch, num_classes, "sparse")


def check_save_load(arch: Architecture, num_classes: int) -> None:
    """A .keras round trip (safe mode) predicts identically, loading with only the custom objects the catalog
    declares (as ``zoo.load`` does in a fresh process), not with whatever this process happens to have registered."""
    import keras
    import numpy as np

    model = _build(arch, num_classes)
    hp = _hp(arch)
    x = _batch(hp, _full_lengths(hp, 4))
    expected = _predict(model, x)
    objects = arch.load_custom_objects()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), _unregistered():
        # an untrained model has no optimizer state; Keras warns about that on load, which is expected here
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        # Keras's own saving code calls np.array on its variables, which NumPy 2 flags: not the plugin's to fix
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="keras")
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        try:
            loaded = keras.models.load_model(path, custom_objects=objects)  # safe_mode=True
        except (TypeError, ValueError) as e:
            missing = _undeclared(model.get_config(), objects)
            if missing:
                raise CheckFailed(f"the saved model needs {', '.join(missing)}, which the catalog does not declare: "
                                  f"list it under custom_objects: in architectures.{arch.name} of "
                                  f"{arch.catalog or 'its catalog'} (custom_objects: [\"{missing[0]}\"])") from None
            raise CheckFailed(f"the saved model does not load: {type(e).__name__}: {_first_line(e)}") from None
    got = _predict(loaded, x)
    diff = float(np.abs(got - expected).max())
    _require(diff <= 1e-6, f"reloaded model predicts differently (max abs diff {diff:.2e})")


@contextlib.contextmanager
def _unregistered() -> Iterator[None]:
    """Empty Keras's global registry of custom objects for a while, as in a fresh process where no plugin module
    has registered anything; put every entry back afterwards."""
    import keras

    registry = keras.saving.get_custom_objects()  # the live global dict
    saved = dict(registry)
    registry.clear()
    try:
        yield
    finally:
        registry.clear()
        registry.update(saved)


def _undeclared(config: Any, objects: dict[str, Any]) -> list[str]:
    """``module:Name`` of every class in a model config that Keras cannot import by itself and ``objects`` lacks."""
    found: list[str] = []
    if isinstance(config, dict):
        module, name = config.get("module"), config.get("class_name")
        registered = config.get("registered_name") or name
        builtin = isinstance(module, str) and module.split(".")[0] in ("keras", "builtins")
        if isinstance(module, str) and isinstance(name, str) and not builtin and registered not in objects:
            found.append(f"{module}:{name}")
        values = config.values()
    elif isinstance(config, list):
        values = config
    else:
        return found
    for value in values:
        found += [ref for ref in _undeclared(value, objects) if ref not in found]
    return found


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0]


def check_batch_sizes(arch: Architecture, num_classes: int) -> None:
    """Batches of 1 and 5 work, and each row's prediction does not depend on its batch."""
    import numpy as np

    model = _build(arch, num_classes)
    hp = _hp(arch)
    x = _batch(hp, _full_lengths(hp, 5), seed=1)
    together = _predict(model, x)
    _check_probabilities(together, 5, num_classes)
    for i in range(5):
        alone = _predict(model, x[i:i + 1])
        _check_probabilities(alone, 1, num_classes)
        diff = float(np.abs(alone[0] - together[i]).max())
        _require(diff <= 1e-5, f"row {i} predicts differently alone than in a batch of 5 (diff {diff:.2e})")


def check_input_modes(arch: Architecture, num_classes: int) -> None:
    """Each declared input mode (tokens, features) builds and predicts probabilities."""
    for mode in arch.inputs:
        extra = _features_extra(arch, mode)
        model = _build(arch, num_classes, **extra)
        hp = _hp(arch, **extra)
        _check_probabilities(_predict(model, _batch(hp, _full_lengths(hp, 3))), 3, num_classes)


def check_variable_length(arch: Architecture, num_classes: int) -> None:
    """With seq_len=None, padding is masked: a sequence predicts the same alone as padded in a batch."""
    import numpy as np

    for mode in arch.inputs:
        extra = {**_features_extra(arch, mode), "seq_len": None}
        model = _build(arch, num_classes, **extra)
        hp = _hp(arch, **extra)
        padded = _batch(hp, [4, VAR_SEQ_LEN], seed=2)
        together = _predict(model, padded)
        _check_probabilities(together, 2, num_classes)
        alone = _predict(model, padded[:1, :4])
        diff = float(np.abs(alone[0] - together[0]).max())
        _require(diff <= 1e-5, f"input={mode}: a length-4 sequence predicts differently when right-padded to "
                               f"{VAR_SEQ_LEN} (diff {diff:.2e}); padding must be masked")


def check_lazy_import(arch: Architecture, num_classes: int | None = None) -> None:
    """The plugin's module imports without importing TensorFlow, Keras, JAX or PyTorch."""
    module = arch.module.split(":")[0]
    if not module:
        raise CheckFailed("the architecture has no plugin module to import")
    code = ("import importlib, sys; importlib.import_module(%r); "
            "print(','.join(m for m in %r if m in sys.modules))" % (module, HEAVY_MODULES))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    _require(proc.returncode == 0, f"importing {module} failed: {proc.stderr.strip().splitlines()[-1:]}")
    heavy = proc.stdout.strip()
    _require(not heavy, f"importing {module} imports {heavy}; import it inside build() instead")


def check_invalid_num_classes(arch: Architecture, num_classes: int | None = None) -> None:
    """num_classes that is not an int >= 2 is refused with a ZooError before anything is built."""
    for bad in (1, 0, -3, 2.5, "3", True, None):
        try:
            _build(arch, bad)
        except ZooError:
            continue
        raise CheckFailed(f"num_classes={bad!r} was accepted")


def check_cudnn_eligible(arch: Architecture, num_classes: int | None = None) -> None:
    """Every LSTM/GRU layer meets the cuDNN kernel's conditions (tanh/sigmoid, no recurrent dropout, no unroll,
    use_bias, GRU reset_after), so training on a GPU uses the fast kernel."""
    import keras

    from .inference import sublayers

    model = _build(arch, 3)
    found = [layer for layer in sublayers(model) if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU))]
    _require(bool(found), "no LSTM or GRU layer found; waive this check with a reason if that is intended")
    for layer in found:
        cell = getattr(layer, "cell", layer)
        problems = []
        if getattr(cell.activation, "__name__", "") != "tanh":
            problems.append("activation is not tanh")
        if getattr(cell.recurrent_activation, "__name__", "") != "sigmoid":
            problems.append("recurrent_activation is not sigmoid")
        if getattr(cell, "recurrent_dropout", 0):
            problems.append("recurrent_dropout is not 0")
        if getattr(layer, "unroll", False):
            problems.append("unroll is True")
        if not getattr(cell, "use_bias", True):
            problems.append("use_bias is False")
        if isinstance(layer, keras.layers.GRU) and not getattr(cell, "reset_after", True):
            problems.append("reset_after is False")
        _require(not problems, f"layer '{layer.name}' is not cuDNN-eligible: {'; '.join(problems)}")


# every check of zoo.contract.CHECKS, found by its function name; one that is missing fails at import
_FUNCS: dict[str, Callable[..., None]] = {name: globals()[f"check_{name}"] for name in CHECKS}
PER_CLASS_COUNT: dict[str, Callable[[Architecture, int], None]] = {n: f for n, f in _FUNCS.items() if n not in ONCE}
ONCE_PER_ARCHITECTURE: dict[str, Callable[..., None]] = {n: f for n, f in _FUNCS.items() if n in ONCE}
CHECK_NAMES = CHECKS


# -- running -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One check of one architecture, at one class count where that matters; call it to run it."""

    architecture: Architecture
    name: str
    num_classes: int | None
    func: Callable[..., None] = field(repr=False)

    @property
    def id(self) -> str:
        suffix = "" if self.num_classes is None else f"-{self.num_classes}"
        return f"{self.architecture.name}-{self.name}{suffix}"

    @property
    def waiver(self) -> str | None:
        """The written reason this check is waived for this architecture, or None."""
        return self.architecture.waivers.get(self.name)

    def __call__(self) -> None:
        try:
            self.func(self.architecture, self.num_classes)
        finally:
            if "keras" in sys.modules:
                sys.modules["keras"].backend.clear_session()


def iter_checks(
    names: Iterable[str] | None = None,
    *,
    registry: Registry | None = None,
    class_counts: Iterable[int] = CLASS_COUNTS,
    checks: Iterable[str] | None = None,
) -> Iterator[Check]:
    """Every (architecture, check, class count) to run; ``names`` defaults to every architecture, presets aside."""
    registry = registry or default_registry()
    archs = [registry.get(n) for n in names] if names else [a for a in registry.architectures() if not a.preset_of]
    wanted = set(checks) if checks else set(CHECK_NAMES)
    unknown = wanted - set(CHECK_NAMES)
    if unknown:
        raise ZooError(f"Unknown check(s): {', '.join(sorted(unknown))}. Valid: {', '.join(CHECK_NAMES)}.")
    counts = tuple(class_counts)
    for arch in archs:
        for name, func in PER_CLASS_COUNT.items():
            if name in wanted:
                for n in counts:
                    yield Check(arch, name, n, func)
        for name, func in ONCE_PER_ARCHITECTURE.items():
            if name in wanted:
                yield Check(arch, name, None, func)


@dataclass
class CheckResult:
    check: Check
    status: str  # passed | failed | waived
    detail: str = ""
    seconds: float = 0.0


@dataclass
class CheckReport:
    """The results of a contract run; ``ok`` is False on any failure or when no check ran."""

    results: list[CheckResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ran(self) -> int:
        return self.count("passed") + self.count("failed")

    @property
    def ok(self) -> bool:
        return self.ran > 0 and self.count("failed") == 0

    def summary(self) -> str:
        return (f"{self.ran} checks run: {self.count('passed')} passed, {self.count('failed')} failed, "
                f"{self.count('waived')} waived")


def run_checks(
    names: Iterable[str] | None = None,
    *,
    registry: Registry | None = None,
    class_counts: Iterable[int] = CLASS_COUNTS,
    checks: Iterable[str] | None = None,
    progress: Callable[[CheckResult], None] | None = None,
) -> CheckReport:
    """Run the contract suite and return a :class:`CheckReport` (never raises for a failing check).

    >>> report = run_checks(["lstm"], class_counts=[3], checks=["softmax_head", "invalid_num_classes"])
    >>> report.summary()
    '2 checks run: 2 passed, 0 failed, 0 waived'
    """
    report = CheckReport()
    for check in iter_checks(names, registry=registry, class_counts=class_counts, checks=checks):
        start = time.perf_counter()
        if check.waiver:
            result = CheckResult(check, "waived", check.waiver)
        else:
            try:
                check()
                result = CheckResult(check, "passed")
            except Exception as e:  # report every failure, keep going
                result = CheckResult(check, "failed", f"{type(e).__name__}: {e}")
        result.seconds = time.perf_counter() - start
        report.results.append(result)
        if progress:
            progress(result)
    return report


def parametrize_with_checks(
    names: Iterable[str] | None = None,
    *,
    registry: Registry | None = None,
    class_counts: Iterable[int] = CLASS_COUNTS,
    checks: Iterable[str] | None = None,
) -> Any:
    """A ``pytest.mark.parametrize`` over the contract checks, one test per check, readable ids.

    Waived checks are skipped with their written reason. Collecting zero checks is an error, so a typo in
    ``names`` cannot pass silently.
    """
    import pytest

    params = []
    for check in iter_checks(names, registry=registry, class_counts=class_counts, checks=checks):
        marks = [pytest.mark.skip(reason=f"waived: {check.waiver}")] if check.waiver else []
        params.append(pytest.param(check, id=check.id, marks=marks))
    if not params:
        raise ZooError(f"No contract checks collected for {list(names or [])!r}: is the plugin installed?")
    return pytest.mark.parametrize("check", params)


__all__ = [
    "CHECK_NAMES", "CLASS_COUNTS", "Check", "CheckFailed", "CheckReport", "CheckResult",
    "iter_checks", "parametrize_with_checks", "run_checks",
]

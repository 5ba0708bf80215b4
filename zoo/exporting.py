"""``zoo export RUN --format savedmodel|onnx|litert --out PATH``: a run as an artifact that needs no zoo.

- ``savedmodel``: TensorFlow Serving's layout (``PATH/1/``), one serving signature that takes raw strings (text;
  the tokenizer inside) or float features (raw units; the standardization inside) and returns ``probabilities``
  and ``labels``; it loads with ``tf.saved_model.load`` alone.
- ``onnx``: the network (token ids or features in, probabilities out) as ``model.onnx``, built with ONNX's fused
  LSTM where the network allows it (:mod:`zoo.onnx_graph`), else by Keras's exporter; beside it
  ``preprocessing.json`` (labels, vocabulary, sequence length, standardization), which the ``onnxruntime`` engine
  and any other runtime apply before the network.
- ``litert``: ``model.tflite`` for on-device use, at batch 1 and a fixed length, checked in the standalone
  ``ai-edge-litert`` interpreter; ``preprocessing.json`` beside it.

Every export is written into ``PATH.partial``, checked there against the Keras run on a sample of padded and
variable-length inputs (the largest difference must be within ``TOLERANCE``; it is reported and kept in
``export.json``), and only then renamed to ``PATH``: a failed export leaves nothing behind. Each export carries the
run's ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ZooError
from .files import atomic_write_json
from .rundir import STAGING_SUFFIX

FORMATS = ("savedmodel", "onnx", "litert")
TOLERANCE = 1e-5
EXPORT_RECORD = "export.json"
SERVING_VERSION = "1"


@dataclass
class ExportResult:
    """What :func:`export` wrote and how closely it agrees with the Keras run."""

    out: Path
    format: str
    max_difference: float
    samples: int
    route: str

    def summary(self) -> str:
        return (f"exported {self.format} ({self.route}) to {self.out}: largest difference from the Keras run "
                f"{self.max_difference:.2e} over {self.samples} sample inputs (tolerance {TOLERANCE:g})")


# -- samples to check an export on -------------------------------------------------------------------------------
def sample_inputs(classifier: Any, n: int = 48, seed: int = 0) -> list:
    """Inputs of many lengths: for text, words of the vocabulary, unknown words, an empty text and one longer than
    the sequence length; for features, sequences around the training statistics, one of a single step."""
    rng = np.random.default_rng(seed)
    spec = classifier.spec
    if spec.kind == "text":
        vocabulary = classifier.parts["tokenizer"].get_vocabulary()[2:] or ["word"]
        longest = (spec.seq_len or 64) + 10
        texts = [" ".join(rng.choice(vocabulary, size=int(k))) for k in rng.integers(1, longest, size=n - 3)]
        return texts + ["", "qwzxv unseenword", " ".join(rng.choice(vocabulary, size=longest))]
    layer = classifier.parts.get("standardize")
    mean = layer.mean.numpy() if layer is not None else np.zeros(spec.num_features, "float32")
    std = layer.std.numpy() if layer is not None else np.ones(spec.num_features, "float32")
    longest = spec.seq_len or 40
    lengths = [1, longest] + list(rng.integers(1, longest + 1, size=n - 2))
    return [(mean + std * rng.normal(size=(int(k), spec.num_features))).astype("float32") for k in lengths]


# -- ONNX --------------------------------------------------------------------------------------------------------
def preprocessing_record(classifier: Any) -> dict[str, Any]:
    """``preprocessing.json``: what a runtime does before the network, and the labels after it."""
    from .engines import PREPROCESSING_FORMAT

    spec = classifier.spec
    out: dict[str, Any] = {"format": PREPROCESSING_FORMAT, "kind": spec.kind, "labels": classifier.labels,
                           "model": spec.to_dict(), "num_features": spec.num_features,
                           "versions": classifier.record.versions if classifier.record else {},
                           "tokenizer": None, "standardize": None}
    if spec.kind == "text":
        tokenizer = classifier.parts["tokenizer"]
        config = tokenizer.get_config()
        out["tokenizer"] = {"vocabulary": tokenizer.get_vocabulary(), "sequence_length": spec.seq_len,
                            "standardize": config["standardize"], "split": config["split"], "padding_id": 0,
                            "unknown_id": 1, "lowercase": "ascii", "whitespace": "ascii"}
        if config["standardize"] != "lower_and_strip_punctuation" or config["split"] != "whitespace":
            raise ZooError(f"the run's tokenizer standardizes with {config['standardize']!r} and splits on "
                           f"{config['split']!r}; the ONNX export knows only the zoo's own tokenizer.")
    if spec.kind == "features":
        out["zero_steps"] = ("a timestep whose features are all zero is padding wherever it stands: Keras's Masking "
                             "skips it, and so does the ONNX graph; after each step below, a step that has become "
                             "all zero is skipped as well")
    layer = classifier.parts.get("standardize")
    if layer is not None:
        out["standardize"] = {"mean": layer.mean.numpy().tolist(), "std": layer.std.numpy().tolist(),
                              "padding": "all-zero timesteps stay zero"}
    layer = classifier.parts.get("center")
    out["center"] = None if layer is None else {
        "scale": layer.scale.numpy().tolist(),
        "how": "after standardizing, beside each series its copy minus its own mean (per feature, over its real "
               "steps) divided by scale, padding left at zero"}
    out["fold"] = {"size": spec.fold, "how": "after standardizing (and centring), every `size` consecutive timesteps "
                   "side by side as one step (the end padded with all-zero steps)"}
    return out


def onnx_artifacts(classifier: Any) -> tuple[Any, dict[str, Any]]:
    """The network's ``onnx.ModelProto`` (fused LSTM where possible) and the preprocessing record."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ZooError('ONNX export needs onnx: pip install "keras-zoo[onnx]".') from None
    from .onnx_graph import NotSupported, network_to_onnx

    network = classifier.parts.get("network", classifier.model)
    try:
        model = network_to_onnx(network, name=classifier.spec.name)
        route = "fused LSTM"
    except NotSupported as why:
        model, route = _keras_onnx(network), f"Keras exporter ({why})"
    meta = model.metadata_props.add()
    meta.key, meta.value = "zoo.route", route
    return model, preprocessing_record(classifier)


def _keras_onnx(network: Any) -> Any:
    import onnx
    import tensorflow as tf

    spec = tf.TensorSpec((None, *network.input.shape[1:]), network.input.dtype,
                         name="tokens" if network.input.dtype == "int32" else "features")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            network.export(os.path.join(tmp, "m.onnx"), format="onnx", verbose=False, input_signature=[spec])
        except Exception as e:  # noqa: BLE001 - tf2onnx's failures are many; each becomes one line
            raise ZooError(f"this network does not convert to ONNX ({type(e).__name__}: "
                           f"{str(e).strip().splitlines()[0][:200]}); export it as savedmodel instead.") from None
        return onnx.load(os.path.join(tmp, "m.onnx"))


def _write_onnx(classifier: Any, staging: Path) -> tuple[float, int, str]:
    import onnx

    from .engines import ONNX_MODEL, PREPROCESSING, OnnxClassifier

    model, preprocessing = onnx_artifacts(classifier)
    onnx.save(model, staging / ONNX_MODEL)
    atomic_write_json(staging / PREPROCESSING, preprocessing)
    engine = OnnxClassifier(str(staging / ONNX_MODEL), preprocessing)
    samples = sample_inputs(classifier)
    diff = float(np.abs(engine.predict_proba(samples) - classifier.predict_proba(samples)).max())
    route = next(p.value for p in model.metadata_props if p.key == "zoo.route")
    return diff, len(samples), route


# -- SavedModel --------------------------------------------------------------------------------------------------
def _serving_module(classifier: Any) -> tuple[Any, Any]:
    """A tf.Module tracking the model's variables and tables, and its serving function."""
    import tensorflow as tf

    module = tf.Module()
    module.labels = tf.constant([str(label) for label in classifier.labels])
    spec = classifier.spec
    if spec.kind == "text":
        module.tokenizer, module.network = classifier.parts["tokenizer"], classifier.parts["network"]
        variable = module.network.input.shape[1] is None and spec.trim

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve(text: Any) -> dict:
            ids = tf.cast(module.tokenizer(text), tf.int32)
            if variable:  # padding is masked: cutting it changes nothing but the work
                width = tf.reduce_max(tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1))
                ids = ids[:, :tf.maximum(width, 1)]
            return _outputs(module, module.network(ids, training=False))
    else:
        module.model = classifier.model

        @tf.function(input_signature=[tf.TensorSpec([None, spec.seq_len, spec.num_features], tf.float32,
                                                    name="features")])
        def serve(features: Any) -> dict:
            return _outputs(module, module.model(features, training=False))
    module.serve = serve
    return module, serve


def _outputs(module: Any, probs: Any) -> dict:
    import tensorflow as tf

    probs = tf.cast(probs, tf.float32)
    return {"probabilities": probs, "labels": tf.gather(module.labels, tf.argmax(probs, axis=-1))}


_SAVEDMODEL_CHECK = """
import json, sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
with np.load(sys.argv[2], allow_pickle=False) as f:
    arrays = {k: f[k] for k in f.files}
if "text" in arrays:
    out = serve(text=tf.constant(arrays["text"]))
    probs = out["probabilities"].numpy()
else:
    probs = np.concatenate([serve(features=tf.constant(arrays[f"x{i}"][None]))["probabilities"].numpy()
                            for i in range(len(arrays) )])
np.save(sys.argv[3], probs)
print(json.dumps({"zoo_imported": "zoo" in sys.modules}))
"""


def _write_savedmodel(classifier: Any, staging: Path) -> tuple[float, int, str]:
    import tensorflow as tf

    module, serve = _serving_module(classifier)
    path = staging / SERVING_VERSION
    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})
    samples = sample_inputs(classifier)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {"text": np.array(samples)} if classifier.kind == "text" else \
            {f"x{i}": s for i, s in enumerate(samples)}
        np.savez(os.path.join(tmp, "in.npz"), **inputs)
        # the check runs in tmp (so it cannot import a zoo from the caller's folder): the path must be absolute
        proc = subprocess.run([sys.executable, "-c", _SAVEDMODEL_CHECK, str(path.resolve()),
                               os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npy")],
                              capture_output=True, text=True, timeout=600,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tmp)
        if proc.returncode != 0 or json.loads(proc.stdout.strip().splitlines()[-1])["zoo_imported"]:
            raise ZooError(f"the SavedModel did not load in a TensorFlow-only process: "
                           f"{(proc.stderr.strip().splitlines() or ['zoo was imported'])[-1][:300]}")
        got = np.load(os.path.join(tmp, "out.npy"))
    diff = float(np.abs(got - classifier.predict_proba(samples)).max())
    return diff, len(samples), "tf.saved_model, serving_default signature"


# -- LiteRT ------------------------------------------------------------------------------------------------------
def _litert_network(classifier: Any) -> Any:
    """What the .tflite holds: the network on token ids (text) or the whole model on raw features."""
    return classifier.parts["network"] if classifier.kind == "text" else classifier.model


def _write_litert(classifier: Any, staging: Path, seq_len: int | None) -> tuple[float, int, str]:
    import keras
    import tensorflow as tf

    from .engines import PREPROCESSING

    length = seq_len or classifier.spec.seq_len
    if not length:
        raise ZooError("a LiteRT export has a fixed length and this run takes any length: pass --seq-len N.")
    network = _litert_network(classifier)
    dtype = tf.int32 if classifier.kind == "text" else tf.float32
    shape = (1, length) if classifier.kind == "text" else (1, length, classifier.spec.num_features)
    with tempfile.TemporaryDirectory() as tmp:
        archive = keras.export.ExportArchive()
        archive.track(network)
        archive.add_endpoint("serve", lambda x: network(x, training=False),
                             input_signature=[tf.TensorSpec(shape, dtype, name="inputs")])
        archive.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # what ai-edge-litert runs alone
        try:
            data = converter.convert()
        except Exception as e:  # noqa: BLE001 - the converter raises many types
            raise ZooError(f"{classifier.spec.architecture} does not convert to LiteRT with built-in ops "
                           f"({type(e).__name__}: {str(e).strip().splitlines()[0][:200]}); export it as onnx or "
                           "savedmodel instead.") from None
    (staging / "model.tflite").write_bytes(data)
    preprocessing = preprocessing_record(classifier) if classifier.kind == "text" else {
        **preprocessing_record(classifier), "standardize": None, "center": None,
        "fold": {"size": 1}}  # the .tflite standardizes, centres and folds features itself
    preprocessing["litert"] = {"input_shape": list(shape), "padding": "right, with 0"}
    atomic_write_json(staging / PREPROCESSING, preprocessing)
    return _check_litert(classifier, data, length), len(sample_inputs(classifier)), f"LiteRT, input {list(shape)}"


def _check_litert(classifier: Any, data: bytes, length: int) -> float:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise ZooError('checking a LiteRT export needs ai-edge-litert: pip install "keras-zoo[litert]".') from None
    interpreter = Interpreter(model_content=data)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    samples = sample_inputs(classifier)
    rows, _ = classifier._rows(samples)
    got = []
    for row in rows:
        x = np.zeros(inp["shape"], inp["dtype"])
        x[0, :min(length, len(row))] = row[:length]
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        got.append(interpreter.get_tensor(out["index"])[0])
    # the reference: the Keras model on the same rows cut to the same length
    if classifier.kind == "text":
        cut = [s for s in rows[:, :length]]
        expected = np.asarray(classifier.network(np.asarray(cut), training=False))
    else:
        expected = classifier.predict_proba([s[:length] for s in samples])
    return float(np.abs(np.asarray(got) - expected).max())


# -- the export --------------------------------------------------------------------------------------------------
def _prepare_out(out: Path, overwrite: bool) -> Path:
    if out.exists() and not (out / EXPORT_RECORD).is_file():
        raise ZooError(f"{out} exists and is not a zoo export; choose another --out.")
    if out.exists() and not overwrite:
        raise ZooError(f"{out} already exists; choose another --out or pass --overwrite to replace it.")
    staging = out.parent / f"{out.name}{STAGING_SUFFIX}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
    except OSError as e:
        raise ZooError(f"cannot create {staging}: {e.strerror}.") from None
    return staging


def export(run: str | Path, format: str, out: str | Path, *, overwrite: bool = False,
           seq_len: int | None = None) -> ExportResult:
    """Export the run in ``run`` as ``format`` into ``out`` (see the module docstring); returns what was checked."""
    from .card import write_model_card
    from .classifier import load

    if format not in FORMATS:
        raise ZooError(f"Unknown export format {format!r}; use one of {', '.join(FORMATS)}.")
    out = Path(out)
    classifier = load(run, jit_compile=False)
    staging = _prepare_out(out, overwrite)
    try:
        writer = {"onnx": _write_onnx, "savedmodel": _write_savedmodel}.get(format)
        diff, samples, route = writer(classifier, staging) if writer else _write_litert(classifier, staging, seq_len)
        if not diff <= TOLERANCE:
            raise ZooError(f"the {format} export predicts up to {diff:.2e} away from the Keras run (tolerance "
                           f"{TOLERANCE:g}); it was not written.")
        result = ExportResult(out, format, diff, samples, route)
        atomic_write_json(staging / EXPORT_RECORD, {"format": format, "route": route, "source": str(run),
                                                    "max_difference": diff, "samples": samples,
                                                    "tolerance": TOLERANCE, "model": classifier.spec.to_dict()})
        _copy_card(Path(run), staging, classifier, write_model_card)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_card(run: Path, staging: Path, classifier: Any, write: Any) -> None:
    from .rundir import CARD, CONFUSION, METRICS, RunDir

    for name in (CARD, CONFUSION):
        if (run / name).is_file():
            shutil.copyfile(run / name, staging / name)
    if not (staging / CARD).exists() and classifier.record is not None:
        write(staging, classifier.record, classifier.labels, RunDir(run).read_json(METRICS),
              classifier.model.count_params(), run_name=str(run))


__all__ = ["ExportResult", "FORMATS", "TOLERANCE", "export", "onnx_artifacts", "sample_inputs"]

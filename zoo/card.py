"""``MODEL_CARD.md``: what a run is, what it was trained on, how well it does and how to use it, written from the
run's own files (config.json, labels.json, metrics.json) into every run directory and every export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .record import RunRecord
from .rundir import CARD


def _metrics_table(metrics: dict[str, Any]) -> list[str]:
    rows = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    rows += [f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
             for label, m in metrics.get("per_class", {}).items()]
    return rows


def _input_line(record: RunRecord) -> str:
    spec = record.model
    if spec.kind == "text":
        hp = spec.hyperparameters
        return (f"raw text; the tokenizer inside the model lower-cases, strips punctuation, splits on whitespace and "
                f"keeps a vocabulary of {hp.get('vocab_size')} ids (padding and unknown words included); texts "
                f"longer than {spec.seq_len} tokens are cut")
    scaled = " (standardized inside the model: give raw units)" if "standardize" in spec.parts else ""
    folded = (f"; the model reads every {spec.fold} consecutive timesteps as one step of the network"
              if spec.fold > 1 else "") + ("; the network also reads each series minus its own mean (inside the "
                                           "model)" if spec.center else "")
    return (f"numeric sequences of shape (timesteps, {spec.num_features}){scaled}; an all-zero timestep is padding "
            f"and is ignored{folded}")


def model_card(record: RunRecord, labels: list, metrics: dict[str, Any], parameters: int | None = None,
               run_name: str = "RUN") -> str:
    """The card's Markdown text."""
    spec, train = record.model, record.train
    preset = f" (preset '{spec.name}')" if spec.name != spec.architecture else ""
    versions = ", ".join(f"{k} {v}" for k, v in record.versions.items())
    example = '["some text"]' if spec.kind == "text" else "[array_of_shape_timesteps_by_features]"
    lines = [f"# Model card: {spec.architecture}{preset} classifier, run `{run_name}`", "",
             "## Model", "",
             f"- Architecture: `{spec.architecture}`, built by plugin '{spec.plugin}' ({spec.package} "
             f"{spec.version})" + (f"; {parameters:,} parameters" if parameters else ""),
             f"- Input: {_input_line(record)}",
             f"- Output: a probability for each of {spec.num_classes} classes (softmax), and the most likely label",
             "- Hyperparameters: " + ", ".join(f"{k}={v}" for k, v in spec.hyperparameters.items()),
             f"- Trained with: {versions}", "",
             "## Data", "", "| split | source | examples |", "|---|---|---|"]
    lines += [f"| {name} | {d['source']} | {d['examples']:,} |" for name, d in record.data.items()]
    lines += ["", "## Training", ""] + [f"- {note}" for note in record.notes]
    lines += [f"- seed: {train.seed}; epochs run: {record.epochs_run}; batch size {train.batch_size}", ""]
    lines += [f"## Metrics ({metrics.get('split')} split: {metrics.get('source')})", "",
              f"Accuracy {metrics.get('accuracy', 0):.4f}, macro-F1 {metrics.get('macro_f1', 0):.4f} on "
              f"{metrics.get('num_examples', 0):,} examples.", ""] + _metrics_table(metrics)
    lines += ["", "![confusion matrix](confusion_matrix.png)", "", "## Labels", "",
              ", ".join(f"`{label}`" for label in labels), "", "## Intended use", "",
              f"Classifying {'texts' if spec.kind == 'text' else 'sequences'} like those it was trained on into "
              "these labels. It knows no other label; its accuracy is measured only on the split above, and data "
              "unlike the training data (another domain, language or sensor) can do much worse. Check it on your own "
              "labelled sample (`zoo evaluate`) before relying on it.", "",
              "## How to use it", "", "```bash", f"zoo predict {run_name} " +
              ('"some text"' if spec.kind == "text" else "--data inputs.npz"),
              f"zoo predict {run_name} --data inputs.{'csv' if spec.kind == 'text' else 'npz'} --output preds.csv",
              f"zoo serve {run_name} --port 8000", f"zoo export {run_name} --format onnx --out export/", "```", "",
              "```python", "import zoo", "", f'clf = zoo.load("{run_name}")',
              f"clf.predict({example}, top_k=2)", "```", ""]
    return "\n".join(lines)


def write_model_card(directory: Path, record: RunRecord, labels: list, metrics: dict[str, Any],
                     parameters: int | None = None, run_name: str | None = None) -> Path:
    from .files import atomic_write

    return atomic_write(Path(directory) / CARD, model_card(record, labels, metrics, parameters,
                                                           run_name or Path(directory).name))


__all__ = ["CARD", "model_card", "write_model_card"]

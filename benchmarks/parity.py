"""Export parity of every built-in in every format (not part of CI).

    python benchmarks/parity.py

Trains each built-in for 60 steps on a small 3-class text set and a small 4-feature numeric set (variable lengths,
raw units), exports each run as savedmodel, onnx and litert (numeric LiteRT at a fixed length of 20), and prints the
largest |export - Keras| that each export's own check measured on its sample of padded and variable-length inputs
(the check refuses an export over ``zoo.exporting.TOLERANCE``).
"""

import shutil
import tempfile
from pathlib import Path

import numpy as np

import zoo

FORMATS = ("savedmodel", "onnx", "litert")
WORDS = "alpha beta gamma delta eps zeta eta theta iota kappa".split()


def write_data(directory: Path) -> dict:
    rng = np.random.default_rng(0)
    lines = []
    for i in range(300):
        y = i % 3
        lines.append(" ".join(rng.choice(WORDS[y * 3:y * 3 + 4], rng.integers(3, 20))) + f"\tc{y}")
    (directory / "text.txt").write_text("\n".join(lines) + "\n")
    y = rng.integers(0, 3, 200)
    x = rng.normal(5, 3, size=(200, 20, 4)).astype("float32")
    x[y == 1, :, 0] += 3
    for i, n in enumerate(rng.integers(5, 21, 200)):
        x[i, n:] = 0
    np.savez(directory / "numeric.npz", X=x, y=y.astype("int64"))
    return {"text": directory / "text.txt", "numeric": directory / "numeric.npz"}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="zoo-parity-"))
    try:
        data = write_data(tmp)
        print("| model | input | format | largest difference | route |\n|---|---|---|---|---|")
        for arch in ("lstm", "stacked_lstm", "bilstm"):
            for kind, path in data.items():
                run = zoo.train(arch, str(path), out=str(tmp / f"{arch}-{kind}"), steps=60, seed=0, verbose=0).out
                for fmt in FORMATS:
                    extra = {"seq_len": 20} if (kind, fmt) == ("numeric", "litert") else {}
                    result = zoo.export(str(run), format=fmt, out=str(tmp / f"{arch}-{kind}-{fmt}"), **extra)
                    print(f"| `{arch}` | {kind} | {fmt} | {result.max_difference:.1e} | {result.route} |", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

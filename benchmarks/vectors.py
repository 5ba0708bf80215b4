"""What ``zoo train --embeddings FILE`` buys on text whose test split holds words the training split never does.

    python benchmarks/vectors.py [--archs lstm,bilstm] [--seeds 0,1,2] [--noise 0.3,1.0] [--out DIR]

Synthetic data with a known structure, generated here from a fixed seed: 6 classes, each with 40 topic words;
a text is 3 to 5 topic words of its class among 6 to 12 filler words shared by every class. The training texts
(600) use the first half of each class's topic words, the test texts (600) the second half only, so without
vectors every test topic word is the unknown word and a network can only guess. The vector file (16 dimensions)
places each topic word at its class's centre plus Gaussian noise of the given scale (the centres are about 5.7
apart: noise 1.0 blurs the classes, 0.3 barely), and each filler word at random. Each cell is ``zoo train`` with
its defaults (the step budget and the cosine schedule of a set under 1,000 rows), with and without the vectors;
means and spreads over the seeds; the table goes to stdout and to ``benchmarks/results/vectors.md``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

from speed import cpu_model  # benchmarks/speed.py (this script's folder is on sys.path)

CLASSES, TOPIC, FILLER, DIM = 6, 40, 60, 16


def write_data(directory: Path, noise: float, seed: int = 7) -> dict[str, Path]:
    """The training and test texts and a vector file whose topic words sit ``noise`` from their class's centre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLASSES, DIM))
    topic = [[f"topic{k}w{i}" for i in range(TOPIC)] for k in range(CLASSES)]
    filler = [f"filler{i}" for i in range(FILLER)]
    lines = [f"{w} " + " ".join(f"{v:.5f}" for v in centres[k] + noise * rng.normal(size=DIM))
             for k in range(CLASSES) for w in topic[k]]
    lines += [f"{w} " + " ".join(f"{v:.5f}" for v in rng.normal(size=DIM)) for w in filler]
    (directory / "vectors.txt").write_text("\n".join(lines) + "\n")

    def texts(name: str, rows: int, half: int) -> Path:
        out = []
        for _ in range(rows):
            k = int(rng.integers(CLASSES))
            words = list(rng.choice(topic[k][half * TOPIC // 2:(half + 1) * TOPIC // 2], int(rng.integers(3, 6))))
            words += list(rng.choice(filler, int(rng.integers(6, 13))))
            rng.shuffle(words)
            out.append(" ".join(words) + f"\tc{k}")
        (directory / name).write_text("\n".join(out) + "\n")
        return directory / name

    return {"train": texts("train.txt", 600, 0), "test": texts("test.txt", 600, 1),
            "vectors": directory / "vectors.txt"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", default="lstm,bilstm")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--noise", default="0.3,1.0")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "vectors.md"))
    args = parser.parse_args()
    import zoo

    rows = ["| architecture | vector noise | without vectors | with vectors |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="zoo-vectors-") as tmp:
        for noise in map(float, args.noise.split(",")):
            directory = Path(tmp) / f"noise{noise:g}"
            directory.mkdir()
            data = write_data(directory, noise)
            for arch in args.archs.split(","):
                cells = []
                for vectors in (None, data["vectors"]):
                    scores = []
                    for seed in map(int, args.seeds.split(",")):
                        run = zoo.train(arch, data["train"], test=data["test"], seed=seed, verbose=0,
                                        embeddings=vectors, out=directory / f"{arch}-{seed}-{vectors is not None}")
                        scores.append(run.metrics["accuracy"])
                        print(f"{arch} noise {noise} vectors {vectors is not None} seed {seed}: "
                              f"{scores[-1]:.4f}", flush=True)
                    spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
                    cells.append(f"{statistics.mean(scores):.4f} ± {spread:.4f}")
                rows.append(f"| `{arch}` | {noise:.1f} | {cells[0]} | {cells[1]} |")
    text = (f"Accuracy on the test split (600 texts, 6 classes, chance 0.167), seeds {args.seeds}; {cpu_model()}; "
            "`python benchmarks/vectors.py`.\n\n" + "\n".join(rows) + "\n")
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()

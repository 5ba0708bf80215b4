"""The run directory: its layout, the staging area a run trains in, its lock, its checkpoints and its publication.

A run trains in ``OUT.partial/`` and becomes ``OUT`` by one rename once every file is written, so a directory
named ``OUT`` is always a finished run. While it trains, the staging directory is locked (``flock``), so a second
process aiming at the same ``OUT`` gets one line naming the holder's pid instead of training into the same files.
Every epoch writes a checkpoint of the whole training state (weights, optimizer, random-number state, the loop's
own state) into a new directory, renamed into place only when complete: a run killed at any moment resumes from
its last finished epoch. ``--overwrite`` replaces only a directory that is a zoo run, and keeps the old run until
the new one is complete (the two are swapped atomically where the kernel allows it).

Nothing here imports TensorFlow; the checkpoint methods take the Keras model they save.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ZooError
from .files import atomic_write, atomic_write_json

MODEL = "model.keras"
LABELS = "labels.json"
CONFIG = "config.json"
METRICS = "metrics.json"
HISTORY = "history.json"
CURVES = "training_curves.png"
CONFUSION = "confusion_matrix.png"
CARD = "MODEL_CARD.md"
REQUIRED = (MODEL, LABELS, CONFIG)
STAGING_SUFFIX = ".partial"
MARKER = ".zoo-staging"  # in a staging directory: zoo wrote it, and the pid of the process training there
CHECKPOINTS = "checkpoints"


def is_run(path: str | os.PathLike) -> bool:
    """True if ``path`` is a directory a zoo version wrote as a finished run (any format).

    >>> import tempfile
    >>> is_run(tempfile.mkdtemp())
    False
    """
    path = Path(path)
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    legacy = isinstance(config, dict) and {"architecture", "hyperparameters", "versions"} <= set(config)
    return isinstance(config, dict) and ("zoo_run" in config or legacy) and (path / MODEL).is_file()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system cannot."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), exchange) == 0


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


class RunDir:
    """A run directory ``out`` and its staging directory ``out.partial``.

    For reading a finished run: :meth:`require_finished`, :meth:`read_json`, :meth:`path`. For training:
    :meth:`acquire` (lock, checks, fresh or resumed staging), :meth:`save_checkpoint` / :meth:`load_checkpoint`,
    :meth:`publish`, and :meth:`release` (called by ``with``).
    """

    def __init__(self, out: str | os.PathLike, temporary: bool = False):
        self.out = Path(out)
        self.staging = self.out.parent / f"{self.out.name}{STAGING_SUFFIX}"  # (no with_name: "." has no name)
        self.temporary = temporary  # a non-chief worker's throw-away directory: no lock, removed at the end
        self._fd: int | None = None
        self.created = False  # this process made the staging directory
        self.notes: list[str] = []

    @classmethod
    def scratch(cls) -> "RunDir":
        """A temporary run directory, removed by :meth:`release` (what a non-chief worker writes to)."""
        root = Path(tempfile.mkdtemp(prefix="zoo-worker-"))
        run = cls(root / "run", temporary=True)
        run.staging.mkdir()
        return run

    def path(self, name: str) -> Path:
        """A file of the finished run."""
        return self.out / name

    # -- reading a finished run -------------------------------------------------------------------------------
    def require_finished(self) -> None:
        missing = [f for f in REQUIRED if not (self.out / f).is_file()]
        if missing:
            hint = (f" An interrupted run is in {self.staging}: resume it with --resume."
                    if self.staging.exists() else
                    " It is an ONNX export: load it with engine onnxruntime (--engine onnxruntime)."
                    if (self.out / "model.onnx").is_file() else "")
            raise ZooError(f"{self.out} is not a finished zoo run (missing {', '.join(missing)}).{hint}")

    def read_json(self, name: str, staged: bool = False) -> Any:
        path = (self.staging if staged else self.out) / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ZooError(f"{path}: cannot read it ({e}); the run directory is damaged, train it again.") from None

    # -- training: acquire ------------------------------------------------------------------------------------
    def _check_target(self, overwrite: bool, resume: bool) -> None:
        out = self.out
        if out.name in ("", ".", "..") or Path.cwd().resolve().is_relative_to(out.resolve()):
            raise ZooError(f"--out {out} is the current directory or one of its parents; name a new directory "
                           "for the run, e.g. runs/NAME.")
        if not out.exists():
            return
        if not out.is_dir():
            raise ZooError(f"{out} exists and is not a directory; choose another --out.")
        if not any(out.iterdir()):
            return  # an empty directory: nothing to lose
        if not is_run(out):
            raise ZooError(f"{out} exists and is not a zoo run; --overwrite only replaces runs zoo wrote. Choose "
                           "another --out.")
        if not overwrite:
            raise ZooError(f"{out} already exists; choose another --out or pass --overwrite to replace it.")

    def _lock(self, wait: bool) -> None:
        import fcntl

        for _ in range(3):
            fd = os.open(self.staging, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                holder = (self.staging / MARKER).read_text(encoding="utf-8").strip() if (
                    self.staging / MARKER).exists() else "unknown"
                raise ZooError(f"{self.out} is being trained by another zoo process ({holder}); wait for it to "
                               "finish or stop it, or choose another --out.") from None
            if _same_file(fd, self.staging):
                self._fd = fd
                return
            os.close(fd)  # the holder published it while we waited: look again
            if not self.staging.exists():
                break
        raise ZooError(f"{self.staging} changed while zoo was locking it; run the command again.")

    def acquire(self, *, resume: bool = False, overwrite: bool = False) -> "RunDir":
        """Lock the staging directory, fresh (created) or an interrupted run's (``resume``), after checking that
        nothing but a zoo run would be replaced."""
        self._check_target(overwrite, resume)
        try:
            if not self.staging.parent.is_dir():
                self.staging.parent.mkdir(parents=True)
            os.mkdir(self.staging)
            self.created = True
        except FileExistsError:
            if not self.staging.parent.is_dir():
                raise ZooError(f"cannot create {self.staging}: {self.staging.parent} is not a directory.") from None
        except OSError as e:
            raise ZooError(f"cannot create {self.staging}: {e.strerror}.") from None
        if self.created:
            self._lock(wait=True)  # a process that found it first holds the lock only to refuse: wait it out
        else:
            if not self.staging.is_dir():
                raise ZooError(f"{self.staging} exists and is not a directory; move it away.")
            self._lock(wait=False)
            self._adopt(resume, overwrite)
        if resume and self.created:
            self.release(remove=True)
            raise ZooError(f"Nothing to resume: there is no interrupted run in {self.staging}. Run without "
                           "--resume.")
        atomic_write(self.staging / MARKER, f"pid {os.getpid()}\n")
        return self

    def _adopt(self, resume: bool, overwrite: bool) -> None:
        """Decide what to do with a staging directory this process did not create (and now holds the lock of)."""
        marked = (self.staging / MARKER).exists()
        if not marked and is_run(self.staging):  # the old run a crashed --overwrite had swapped out
            self._empty_staging()
            self.notes.append(f"removed {self.staging}, a replaced run left behind by an interrupted --overwrite")
            self.created = True
            return
        if not marked and any(self.staging.iterdir()):
            self.release()
            raise ZooError(f"{self.staging} exists and was not written by zoo; move it away or choose another "
                           "--out.")
        if resume:
            return
        if overwrite:
            self._empty_staging()
            self.notes.append(f"discarded the interrupted run in {self.staging} (--overwrite)")
            self.created = True
            return
        self.release()
        raise ZooError(f"An interrupted run is in {self.staging}: pass --resume to continue it, --overwrite to start "
                       "over, or delete it.")

    def _empty_staging(self) -> None:
        for child in self.staging.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()

    def release(self, remove: bool = False) -> None:
        """Unlock; ``remove`` deletes the staging directory (a run that wrote nothing worth resuming)."""
        if remove or self.temporary:
            shutil.rmtree(self.staging.parent if self.temporary else self.staging, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        # a failed run keeps its staging directory only if it holds an epoch to resume from
        self.release(remove=kind is not None and self.staging.is_dir() and self.latest_checkpoint() is None)

    # -- staging files ----------------------------------------------------------------------------------------
    def stage(self, name: str) -> Path:
        """A file in the staging directory (it becomes ``OUT/name`` on :meth:`publish`)."""
        return self.staging / name

    def write_json(self, name: str, obj: Any) -> Path:
        return atomic_write_json(self.staging / name, obj)

    def staged_config(self) -> dict | None:
        """The config an interrupted run wrote when it started (None if it wrote none)."""
        path = self.staging / CONFIG
        return self.read_json(CONFIG, staged=True) if path.exists() else None

    # -- checkpoints ------------------------------------------------------------------------------------------
    def _checkpoints(self) -> Iterator[Path]:
        root = self.staging / CHECKPOINTS
        if root.is_dir():
            yield from sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("epoch-")
                              and not p.name.endswith(".tmp"))

    def latest_checkpoint(self) -> Path | None:
        return next(reversed(list(self._checkpoints())), None)

    def save_checkpoint(self, model: Any, state: dict[str, Any], improved: bool, best: Any = None) -> None:
        """Write the training state after an epoch: weights with the optimizer's variables, the random-number
        generators' states, the best weights so far, and ``state`` (the loop's own, JSON-ready). ``best``: a
        context manager factory, ``best(model)``, under which an improved epoch's best weights are written
        (default: they are the last weights)."""
        import numpy as np

        previous = self.latest_checkpoint()
        final = self.staging / CHECKPOINTS / f"epoch-{state['epoch']:04d}"
        tmp = final.with_name(final.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            model.save_weights(tmp / "last.weights.h5")
            np.savez(tmp / "seeds.npz", *[v.numpy() for v in _seed_states(model)])
            if (improved or previous is None) and best is not None:
                with best(model):
                    model.save_weights(tmp / "best.weights.h5")
            elif improved or previous is None:
                os.link(tmp / "last.weights.h5", tmp / "best.weights.h5")
            else:
                os.link(previous / "best.weights.h5", tmp / "best.weights.h5")
            atomic_write_json(tmp / "state.json", state)
            os.replace(tmp, final)  # the epoch's checkpoint exists only once it is whole
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ZooError(f"cannot write a checkpoint in {self.staging}: {e.strerror or e}; the run can be resumed "
                           "from its previous epoch with --resume once that is fixed.") from None
        for old in self._checkpoints():
            if old != final:
                shutil.rmtree(old, ignore_errors=True)

    def best_weights(self) -> Path | None:
        latest = self.latest_checkpoint()
        return latest / "best.weights.h5" if latest else None

    def load_checkpoint(self, model: Any) -> dict[str, Any] | None:
        """Restore the latest checkpoint into ``model`` (compiled, same architecture); its loop state, or None."""
        import numpy as np

        latest = self.latest_checkpoint()
        if latest is None:
            return None
        model.optimizer.build(model.trainable_variables)  # else Keras skips the optimizer's saved state
        try:
            model.load_weights(latest / "last.weights.h5")
        except ValueError as e:  # e.g. a run begun by an older zoo that built a different network
            raise ZooError(f"{latest}: the checkpoint does not fit the network this run builds ({str(e)[:160]}); "
                           "train it again without --resume.") from None
        with np.load(latest / "seeds.npz") as saved:
            for var, key in zip(_seed_states(model), sorted(saved.files, key=lambda k: int(k.split("_")[1]))):
                var.assign(saved[key])
        return json.loads((latest / "state.json").read_text(encoding="utf-8"))

    # -- publish ----------------------------------------------------------------------------------------------
    def publish(self) -> Path:
        """Make the staging directory ``OUT``: one rename (an atomic swap when replacing a run)."""
        if self.temporary:
            return self.staging
        shutil.rmtree(self.staging / CHECKPOINTS, ignore_errors=True)
        (self.staging / MARKER).unlink(missing_ok=True)
        try:
            if self.out.exists() and any(self.out.iterdir()):
                if _exchange(self.staging, self.out):
                    shutil.rmtree(self.staging, ignore_errors=True)  # the replaced run
                else:
                    trash = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.replaced-", dir=self.out.parent))
                    os.replace(self.out, trash / "run")
                    os.replace(self.staging, self.out)
                    shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(self.staging, self.out)  # replaces an empty directory too
        except OSError as e:
            raise ZooError(f"cannot move {self.staging} to {self.out}: {e.strerror or e}.") from None
        return self.out


def _seed_states(model: Any) -> list:
    """The random-number generators' state variables (dropout masks), which ``save_weights`` leaves out."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


__all__ = ["CONFIG", "LABELS", "METRICS", "MODEL", "RunDir", "is_run"]

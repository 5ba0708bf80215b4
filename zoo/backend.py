"""Importing TensorFlow quietly, once, at the moment it is first needed (never at module level: listing and
discovery stay instant)."""

from __future__ import annotations

import logging
import os
import sys


def import_tensorflow() -> None:
    """Import TensorFlow now, keeping its start-up chatter (C++ log lines that ``TF_CPP_MIN_LOG_LEVEL`` no longer
    silences: oneDNN, CUDA probing) and its retracing warnings off the user's terminal."""
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
                try:
                    import tensorflow  # noqa: F401
                finally:
                    os.dup2(saved, 2)
        finally:
            os.close(saved)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


__all__ = ["import_tensorflow"]

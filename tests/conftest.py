import os
from pathlib import Path

import nbformat
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root():
    return ROOT


@pytest.fixture(scope="session")
def solution():
    return nbformat.read(ROOT / "solutions" / "ch01_perceptron.ipynb", as_version=4)


@pytest.fixture(scope="session")
def student():
    return nbformat.read(ROOT / "exercises" / "ch01_perceptron.ipynb", as_version=4)

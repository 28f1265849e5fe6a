"""Where a notebook runs: in Colab or not, and whether a quick run was asked for.

`NNLEARN_QUICK=1` (set by the Colab canary test) asks notebooks for a short run: fewer
epochs, smaller grids. A notebook reads it through `pick`, so the full setting stays the
one a reader sees:

    epochs = pick(full=200, quick=5)
"""
import os
import sys

_OFF = {"", "0", "false", "no", "off"}


def in_colab():
    """True inside Google Colab (its `google.colab` module is loaded in every Colab kernel)."""
    return "google.colab" in sys.modules


def is_quick():
    """True when the environment variable NNLEARN_QUICK asks for a quick run."""
    return os.environ.get("NNLEARN_QUICK", "").strip().lower() not in _OFF


def pick(full, quick):
    """`full` normally, `quick` when NNLEARN_QUICK is set (see `is_quick`)."""
    return quick if is_quick() else full

"""Hand a number measured in a notebook to the book page that states it (myst-nb's glue).

In a notebook:   glue("ch02_test_accuracy", accuracy)
On the page:     {glue:text}`ch02_test_accuracy:.1%`

When myst-nb is not installed (Colab, a plain Jupyter), `glue` does nothing, so a notebook
runs anywhere without it; the book build, which has myst-nb, records every value.
"""
import math
import numbers
import re

import numpy as np

from .validate import check_type

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def glue(name, value, display=False):
    """Record `value` under `name` for the book (myst_nb.glue), or do nothing without myst-nb.

    name: a key such as "ch02_test_accuracy" (letters, digits, _ . -; a letter or _ first).
    value: anything displayable; a real number must be finite (a NaN in the prose is a failed run).
        A numpy scalar is glued as the Python number it holds, so that its text is "0.82", not
        "np.float64(0.82)", and a format spec such as :.1% applies on the page.
    display: also show the value in the notebook's output.
    """
    check_type("name", name, str, "a string")
    if not _NAME.match(name):
        raise ValueError(f"expected name to be letters, digits, '_', '.' or '-' starting with a letter or '_' "
                         f"(a key the page can cite), got {name!r}")
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(value):
        raise ValueError(f"expected value to be a finite number for {name!r}, got {value}")
    check_type("display", display, bool, "True or False")
    if isinstance(value, np.generic):
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)

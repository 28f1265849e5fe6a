"""nnlearn.report.glue: forwards to myst_nb.glue when myst-nb is installed, else does nothing."""
import sys

import numpy as np
import pytest

from nnlearn.report import glue


def test_glue_forwards_name_value_and_display_to_myst_nb(monkeypatch):
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: calls.append((name, value, display)))
    glue("ch02_test_accuracy", np.float64(0.875))
    glue("ch02_data", "fashion-mnist", display=True)
    glue("ch02_count", np.int64(7))
    assert calls == [("ch02_test_accuracy", 0.875, False), ("ch02_data", "fashion-mnist", True), ("ch02_count", 7, False)]
    assert [type(value) for _, value, _ in calls] == [float, str, int]      # numpy scalars arrive as Python numbers


def test_glue_does_nothing_without_myst_nb(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)        # `import myst_nb` now raises ImportError
    with pytest.raises(ImportError):
        import myst_nb  # noqa: F401
    assert glue("ch02_test_accuracy", 0.875) is None


def test_a_numpy_number_shows_as_a_plain_number_that_the_page_can_format(capsys):
    """The page formats the text/plain repr (myst-nb literal_evals it): it must read "0.25", not "np.float64(0.25)"."""
    from myst_nb.core.variables import format_plain_text

    glue("ch02_shown", np.float64(0.25), display=True)
    shown = capsys.readouterr().out.strip()
    assert shown == "0.25"
    assert format_plain_text(shown, ".1%") == "25.0%"


@pytest.mark.parametrize("value", [float("nan"), np.float32("inf"), -np.inf])
def test_a_non_finite_number_is_an_error_not_a_number_in_the_prose(value):
    with pytest.raises(ValueError, match="expected value to be a finite number for 'ch02_acc'"):
        glue("ch02_acc", value)


@pytest.mark.parametrize("name, error", [(3, TypeError), ("", ValueError), ("1st", ValueError),
                                         ("has space", ValueError)])
def test_a_bad_name_is_an_error_naming_name(name, error):
    with pytest.raises(error, match="name"):
        glue(name, 0.5)

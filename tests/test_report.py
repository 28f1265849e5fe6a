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
    assert calls == [("ch02_test_accuracy", 0.875, False), ("ch02_data", "fashion-mnist", True)]


def test_glue_does_nothing_without_myst_nb(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)        # `import myst_nb` now raises ImportError
    with pytest.raises(ImportError):
        import myst_nb  # noqa: F401
    assert glue("ch02_test_accuracy", 0.875) is None


def test_glue_records_into_the_cell_outputs_that_myst_nb_reads(capsys):
    """Outside a kernel myst-nb's glue displays a plain-text repr; display=True shows the value."""
    glue("ch02_shown", 0.25, display=True)
    assert "0.25" in capsys.readouterr().out


@pytest.mark.parametrize("value", [float("nan"), np.float32("inf"), -np.inf])
def test_a_non_finite_number_is_an_error_not_a_number_in_the_prose(value):
    with pytest.raises(ValueError, match="expected value to be a finite number for 'ch02_acc'"):
        glue("ch02_acc", value)


@pytest.mark.parametrize("name, error", [(3, TypeError), ("", ValueError), ("1st", ValueError),
                                         ("has space", ValueError)])
def test_a_bad_name_is_an_error_naming_name(name, error):
    with pytest.raises(error, match="name"):
        glue(name, 0.5)

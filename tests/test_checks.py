import numpy as np
import torch

from nnlearn.checks import compare, numerical_gradient


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    grad = numerical_gradient(lambda z: z @ A @ z, x)
    np.testing.assert_allclose(grad, (A + A.T) @ x, rtol=1e-6, atol=1e-8)
    assert np.array_equal(x, x.copy())  # x is not modified in place


def test_compare_reports_and_returns(capsys):
    assert compare("same", np.ones(3), torch.ones(3, dtype=torch.float64))
    assert "exact: True" in capsys.readouterr().out
    assert compare("close", np.ones(3), np.ones(3) + 1e-9)
    out = capsys.readouterr().out
    assert "exact: False" in out and "approximate: True" in out
    assert not compare("far", np.ones(3), np.zeros(3))
    assert "maxdiff: 1.00e+00" in capsys.readouterr().out
    assert not compare("shape", np.ones(3), np.ones(4))
    assert "shape mismatch" in capsys.readouterr().out


def test_plot_helpers_draw_what_they_are_given():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnlearn.plotting import plot_confusion_matrix, plot_image_grid

    fig, ax = plt.subplots()
    plot_confusion_matrix(ax, np.array([[3, 1], [0, 2]]), title="t")
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "3"]      # zero cells stay empty
    fig, axes = plt.subplots(1, 3)
    plot_image_grid(axes, np.zeros((2, 16)), titles=["a", "b"])
    assert [a.get_title() for a in axes] == ["a", "b", ""] and axes[0].images[0].get_array().shape == (4, 4)
    plt.close("all")


def test_compare_grads_prints_one_line_per_parameter(capsys):
    from nnlearn.checks import compare_grads

    rng = np.random.default_rng(0)
    grads = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(3)}
    reference = {"b1": torch.tensor(grads["b1"]), "W1": torch.tensor(grads["W1"] + 1e-10)}
    assert compare_grads(grads, reference)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("b1") and "exact: True" in lines[0]
    assert lines[1].startswith("W1") and "exact: False" in lines[1] and "approximate: True" in lines[1]
    # a wrong parameter fails, and every parameter is still reported
    reference["b1"] = reference["b1"] + 0.5
    assert not compare_grads(grads, reference)
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "maxdiff: 5.00e-01" in out
    # different names, or a dict against an array
    assert not compare_grads(grads, {"W1": grads["W1"]})
    assert "mismatch" in capsys.readouterr().out
    assert not compare_grads(grads, grads["W1"])
    # two arrays
    assert compare_grads(grads["W1"], grads["W1"].copy(), verbose=False)
    assert not compare_grads(grads["W1"], grads["W1"].T, verbose=False)

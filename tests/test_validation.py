"""Every public function of the course package against every class of bad input that applies to it.

ROWS has one row per public callable, found by walking the package (classes and their public
methods too), so a new function, or a new parameter, without a row fails the completeness tests.
A row gives a valid call. Bad calls are derived from it by the type of each valid argument:

    float array   shape, dtype (strings), empty, nan, inf
    int array     shape, dtype (strings), float (the same values as floats), empty
    float number  type (a string), nan, inf, zero, negative
    int number    type, fraction (2.5), zero, negative
    str           type, unknown (a name that is not a choice)
    bool, numpy Generator, function, torch module / optimizer: type

plus the row's own cases (mismatched lengths, labels out of range, layers that do not chain, ...).
A bad call must raise TypeError (type, dtype, float, fraction) or ValueError (all else) whose
message names the argument. Where a class is in fact fine for an argument (an activation of an
empty array, a negative bias), `fine` says why, and that call must succeed.
"""
import importlib
import inspect
import pkgutil
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib
import numpy as np
import pytest
import torch

import nnlearn
from nnlearn import activations, autograd, backprop, linear, losses, mlp, optim, perceptron, playground, training
from nnlearn import diagnostics, init
from nnlearn import calibration, output_layers, regression_losses
from nnlearn import generalization, regularization, regularized_fit
from nnlearn import bayesopt, genetic, search
from nnlearn import optimizers, race, schedules, second_order, stabilizers, surfaces
from nnlearn import federated, federated_training, transfer
from nnlearn import data as data_module

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TYPE_ERRORS = {"type", "dtype", "float", "fraction"}
TMP = Path(tempfile.mkdtemp(prefix="nnlearn-validation-"))


@dataclass
class Row:
    valid: Callable[[], dict]                 # keyword arguments of a correct call, made fresh per case
    cases: list = field(default_factory=list)  # (class, argument, bad value) beyond the derived ones
    fine: dict = field(default_factory=dict)   # {(argument, class): why that input is acceptable}
    expect: dict = field(default_factory=dict)  # {(argument, class): exception} where not the default
    call: Callable = None                      # how to call it (methods); default: the callable itself
    runs: bool = True                          # False: a valid call needs data files (not run here)


def rng(seed=0):
    return np.random.default_rng(seed)


def floats(*shape, seed=0):
    return rng(seed).standard_normal(shape)


def net(widths=(3, 4, 2)):
    return mlp.init_parameters(list(widths), rng())


def blobs32():
    return floats(6, 2).astype(np.float32)


def slider():
    import ipywidgets

    w = ipywidgets.IntSlider(value=1, min=0, max=2)
    w._kwarg = "a"                                   # as ipywidgets.interactive names its controls
    return w


def draw(a=0):
    plt.subplots(figsize=(1, 1))[1].plot([0, a])


def idx_file():
    path = TMP / "labels.idx"
    data_module.write_idx(path, np.arange(5, dtype=np.uint8))
    return str(path)


ANY = "any value of this type is a valid input"
NEW_FOLDER = "a folder that may not exist yet"
ELEMENTWISE = {("v", "shape"): "elementwise: any shape", ("v", "empty"): "elementwise: an empty array maps to one",
               ("v", "inf"): "phi(+-inf) is a limit the function has"}
EMPTY_BATCH = "a batch of no examples has no outputs, not an error"
ANY_BIAS = "a bias may have any sign"


def elementwise_row(fn):
    return Row(lambda: {"v": np.array([[-1.0, 0.5], [2.0, 3.0]])}, fine=dict(ELEMENTWISE), call=fn)


def xor():
    return np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([-1, -1, -1, 1])


PERCEPTRON_FINE = {("y", "float"): "labels -1.0 and 1.0 are the same labels as -1 and 1"}
PERCEPTRON_CASES = [("length", "y", np.array([-1, -1, -1, 1, 1])),      # extra labels beyond the data
                    ("range", "y", np.array([0, 1, 1, 0]))]


def layers_cases(weights, biases, X_arg=None):
    W1, W2 = weights
    return [("length", "biases", biases[:1]),                               # zip would drop a layer
            ("shape", "weights", [W1, W2.T]),
            ("nan", "weights", [np.full_like(W1, np.nan), W2]),
            ("dtype", "biases", [np.full(len(biases[0]), "x"), biases[1]]),
            ("empty", "weights", []),
            ("type", "weights", np.ones((3, 3)))]


def training_data():
    X = rng().standard_normal((8, 3))
    Y = np.eye(2)[np.array([0, 1] * 4)]
    weights, biases = net()
    return {"X": X, "Y": Y, "weights": weights, "biases": biases}


W_, B_ = net()

ROWS = {
    # --- activations ---
    **{f"activations.{name}": elementwise_row(getattr(activations, name)) for name in
       ["identity", "identity_derivative", "sign", "sign_derivative", "sigmoid", "sigmoid_derivative", "tanh",
        "tanh_derivative", "relu", "relu_derivative", "hard_tanh", "hard_tanh_derivative"]},
    "activations.elementwise": Row(lambda: {"kernel": np.abs}),
    "activations.get_activation": Row(lambda: {"name": "relu"}),
    "activations.Activation.__call__": Row(lambda: {"v": np.ones((2, 2))}, fine=dict(ELEMENTWISE),
                                           call=lambda **kw: activations.ACTIVATIONS["tanh"](**kw)),
    # --- perceptron ---
    "perceptron.step": elementwise_row(perceptron.step),
    "perceptron.perceptron_predict": Row(
        lambda: {"X": xor()[0], "w": np.array([1.0, 1.0]), "b": -1.5},
        cases=[("shape", "w", np.ones(3))],
        fine={("X", "empty"): EMPTY_BATCH, ("b", "zero"): ANY_BIAS, ("b", "negative"): ANY_BIAS}),
    "perceptron.train_perceptron": Row(
        lambda: {"X": xor()[0], "y": xor()[1], "lr": 1.0, "max_epochs": 5, "rng": rng(), "w0": np.zeros(2),
                 "b0": 0.0},
        cases=PERCEPTRON_CASES + [("nan", "X", np.array([[np.nan, 0.0]] * 4))],
        fine={**PERCEPTRON_FINE, ("b0", "zero"): ANY_BIAS, ("b0", "negative"): ANY_BIAS}),
    "perceptron.separating_hyperplane": Row(lambda: dict(zip("Xy", xor())), cases=PERCEPTRON_CASES,
                                            fine=PERCEPTRON_FINE),
    "perceptron.is_linearly_separable": Row(lambda: dict(zip("Xy", xor())), cases=PERCEPTRON_CASES,
                                            fine=PERCEPTRON_FINE),
    "perceptron.novikoff_bound": Row(
        lambda: {**dict(zip("Xy", xor())), "w": np.array([1.0, 1.0]), "b": -1.5},
        cases=PERCEPTRON_CASES + [("zero", "w", np.zeros(2))], fine=PERCEPTRON_FINE,
        expect={("b", "zero"): ValueError}),          # (w, 0) does not separate AND: a ValueError naming b
    "perceptron.two_layer_forward": Row(
        lambda: {"X": xor()[0], "W1": np.ones((2, 2)), "b1": np.array([-0.5, -1.5]), "W2": np.array([[1.0, -1.0]]),
                 "b2": np.array([-0.5]), "phi": perceptron.step},
        cases=[("shape", "W2", np.ones((1, 3))), ("shape", "b1", np.zeros(3))],
        fine={("X", "empty"): EMPTY_BATCH}),
    "perceptron.collapse_linear_layers": Row(
        lambda: {"weights": [np.ones((3, 2)), np.ones((4, 3))]},
        cases=[("shape", "weights", [np.ones((3, 2)), np.ones((4, 4))]), ("empty", "weights", []),
               ("dtype", "weights", [np.full((3, 2), "x")]), ("nan", "weights", [np.full((3, 2), np.nan)])]),
    # --- mlp ---
    "mlp.count_parameters": Row(lambda: {"widths": [3, 4, 2]},
                                cases=[("shape", "widths", [3]), ("zero", "widths", [3, 0, 2]),
                                       ("fraction", "widths", [3, 2.5]), ("empty", "widths", [])]),
    "mlp.layer_shapes": Row(lambda: {"widths": [3, 4, 2], "batch_size": 5}, cases=[("zero", "widths", [3, 0])]),
    "mlp.init_parameters": Row(lambda: {"widths": [3, 4, 2], "rng": rng(), "dtype": np.float32},
                               cases=[("dtype", "dtype", np.int64), ("zero", "widths", [3, 0])]),
    "mlp.forward_layers": Row(lambda: {"X": floats(5, 3), "weights": W_, "biases": B_, "activation": "tanh",
                                       "output_activation": "identity"},
                              cases=layers_cases(W_, B_) + [("shape", "X", floats(5, 4))],
                              fine={("X", "empty"): EMPTY_BATCH}),
    "mlp.forward": Row(lambda: {"X": floats(5, 3), "weights": W_, "biases": B_, "activation": "tanh",
                                "output_activation": "sigmoid"},
                       cases=layers_cases(W_, B_) + [("shape", "X", floats(3))], fine={("X", "empty"): EMPTY_BATCH}),
    "mlp.binary_code": Row(lambda: {"labels": np.array([0, 3, 5]), "n_bits": 3},
                           cases=[("range", "labels", np.array([0, 8])), ("range", "labels", np.array([-1]))],
                           fine={("labels", "empty"): "no labels have no bits"}),
    "mlp.binary_output_layer": Row(lambda: {"n_classes": 10, "scale": 10.0}),
    "mlp.preactivation_range": Row(
        lambda: {"W": floats(2, 3), "b": floats(2), "high": 0.99, "low": 0.01},
        cases=[("range", "high", 1.5), ("range", "low", 0.995)],
        fine={("low", "zero"): "a_k = 0 exactly for the other classes is a valid bound"}),
    "mlp.noisy_one_hot": Row(
        lambda: {"labels": np.array([0, 2, 1]), "n_classes": 3, "rng": rng(), "high": 0.99, "low": 0.01},
        cases=[("range", "labels", np.array([0, 3])), ("range", "high", 1.5)],
        fine={("low", "zero"): "a_k = 0 exactly is a valid bound", ("labels", "empty"): "no labels, no rows"}),
    "mlp.to_sequential": Row(lambda: {"weights": W_, "biases": B_, "activation": "relu",
                                      "output_activation": "sigmoid", "dtype": torch.float64},
                             cases=layers_cases(W_, B_) + [("unknown", "activation", "sign"),
                                                           ("type", "dtype", np.float32),
                                                           ("dtype", "dtype", torch.int64)]),
    "mlp.from_sequential": Row(lambda: {"model": torch.nn.Sequential(torch.nn.Linear(2, 3))},
                               cases=[("empty", "model", torch.nn.Sequential(torch.nn.ReLU())),
                                      ("unknown", "model", torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False)))]),
    "mlp.make_mlp": Row(lambda: {"widths": [3, 4, 2], "rng": rng(), "activation": "tanh",
                                 "output_activation": "identity", "dtype": torch.float64},
                        cases=[("unknown", "activation", "sign"), ("type", "dtype", "float32"),
                               ("zero", "widths", [3, 0])]),
    # --- losses ---
    **{f"losses.{name}": Row(lambda: {"A": floats(3, 2), "Y": floats(3, 2, seed=1)},
                             cases=[("length", "Y", floats(2, 2)), ("shape", "Y", floats(3, 1)),
                                    ("shape", "A", np.float64(1.0))],
                             call=getattr(losses, name))
       for name in ["quadratic_cost_per_example", "quadratic_cost", "quadratic_cost_gradient"]},
    "losses.Loss.__call__": Row(lambda: {"A": floats(3, 2), "Y": floats(3, 2, seed=1)},
                                cases=[("length", "Y", floats(2, 2))],
                                call=lambda **kw: losses.LOSSES["quadratic"](**kw)),
    "losses.get_loss": Row(lambda: {"name": "quadratic"}),
    **{f"losses.{name}": Row(lambda: {"Z": floats(3, 4)},
                             cases=[("range", "Z", np.array([[-np.inf, -np.inf], [0.0, 1.0]]))],   # a fully masked row
                             call=getattr(losses, name))
       for name in ["log_softmax", "softmax"]},
    **{f"losses.{name}": Row(lambda: {"Z": floats(3, 4), "Y": np.eye(4)[[0, 1, 3]]},
                             cases=[("length", "Y", np.eye(4)[[0, 1]]), ("shape", "Z", floats(3)),
                                    ("range", "Z", np.array([[-np.inf] * 4, [0.0] * 4, [1.0] * 4]))],
                             call=getattr(losses, name))
       for name in ["softmax_cross_entropy_per_example", "softmax_cross_entropy", "softmax_cross_entropy_gradient"]},
    # --- chapter 5: binary cross-entropy, output layers, regression losses, calibration ---
    **{f"losses.{name}": Row(lambda: {"Z": floats(3, 2), "Y": rng(1).uniform(0, 1, size=(3, 2))},
                             cases=[("length", "Y", np.full((2, 2), 0.5)), ("shape", "Y", np.full((3, 1), 0.5)),
                                    ("range", "Y", np.full((3, 2), -1.0))],
                             call=getattr(losses, name))
       for name in ["sigmoid_cross_entropy_per_example", "sigmoid_cross_entropy", "sigmoid_cross_entropy_gradient"]},
    "output_layers.softmax_jacobian": Row(lambda: {"Z": floats(3, 4)},
                                          cases=[("range", "Z", np.array([[-np.inf, -np.inf], [0.0, 1.0]]))]),
    "output_layers.softmax_jvp": Row(lambda: {"Z": floats(3, 4), "V": floats(3, 4, seed=1)},
                                     cases=[("range", "Z", np.array([[-np.inf, -np.inf], [0.0, 1.0]]))]),
    "output_layers.smooth_labels": Row(lambda: {"Y": np.eye(4)[[0, 1, 3]], "eps": 0.1},
                                       cases=[("range", "Y", np.ones((2, 3))), ("range", "eps", 1.5)],
                                       fine={("eps", "zero"): "eps = 0 is no smoothing"}),
    "output_layers.smooth_binary_targets": Row(lambda: {"Y": rng(1).uniform(0, 1, size=(3, 2)), "eps": 0.1},
                                               cases=[("range", "Y", np.full((2, 2), 2.0)), ("range", "eps", 1.5)],
                                               fine={("eps", "zero"): "eps = 0 is no smoothing",
                                                     ("Y", "shape"): "independent targets: any shape"}),
    "output_layers.smoothed_optimal_logit_gap": Row(lambda: {"n_classes": 10, "eps": 0.1},
                                                    cases=[("range", "n_classes", 1), ("range", "eps", 1.5)],
                                                    fine={("eps", "zero"): "no smoothing: the gap is infinite"}),
    **{f"regression_losses.{name}": Row(lambda: {"A": floats(3, 2), "Y": floats(3, 2, seed=1)},
                                        cases=[("length", "Y", floats(2, 2)), ("shape", "Y", floats(3, 1))])
       for name in ["absolute_cost", "absolute_cost_gradient"]},
    **{f"regression_losses.{name}": Row(lambda: {"A": floats(3, 2), "Y": floats(3, 2, seed=1), "threshold": 0.5},
                                        cases=[("length", "Y", floats(2, 2)), ("shape", "Y", floats(3, 1))])
       for name in ["huber_cost", "huber_cost_gradient"]},
    **{f"calibration.{name}": Row(lambda: {"P": rng(2).dirichlet(np.ones(3), size=5), "y": np.array([0, 1, 2, 1, 0]),
                                           "n_bins": 5},
                                  cases=[("range", "y", np.array([0, 1, 3, 1, 0])), ("length", "y", np.array([0, 1])),
                                         ("range", "P", np.full((5, 3), 0.5))])
       for name in ["reliability_bins", "expected_calibration_error"]},
    "calibration.plot_reliability_diagram": Row(
        lambda: {"ax": plt.subplots()[1], "P": rng(2).dirichlet(np.ones(3), size=5), "y": np.array([0, 1, 2, 1, 0]),
                 "n_bins": 5, "title": "t"},
        cases=[("type", "ax", None), ("range", "y", np.array([0, 1, 3, 1, 0]))],
        fine={("title", "unknown"): "a title is free text"}),
    # --- optim ---
    "optim.gd_step": Row(lambda: {"v": floats(3), "grad": floats(3, seed=1), "lr": 0.1},
                         cases=[("shape", "grad", floats(3, 1))]),         # would broadcast to (3, 3)
    "optim.as_schedule": Row(lambda: {"lr": 0.1}),
    "optim.gradient_descent": Row(lambda: {"grad": lambda v: 2 * v, "v0": floats(2), "lr": 0.1, "n_steps": 3},
                                  cases=[("shape", "grad", lambda v: (2 * v)[:, None]),
                                         ("negative", "lr", lambda k: -0.1)],
                                  fine={("n_steps", "zero"): "no steps: the path is v0 alone",
                                        ("v0", "shape"): "parameters of any shape"}),
    "optim.exponential_decay": Row(lambda: {"lr0": 0.5, "rate": 0.1}, fine={("rate", "zero"): "a constant schedule"}),
    "optim.inverse_decay": Row(lambda: {"lr0": 0.5, "rate": 0.1}, fine={("rate", "zero"): "a constant schedule"}),
    "optim.steepest_descent_step": Row(lambda: {"grad": floats(3), "eps": 0.1}, cases=[("zero", "grad", np.zeros(3))],
                                       fine={("grad", "shape"): "a gradient of any shape"}),
    "optim.minibatches": Row(lambda: {"n": 10, "batch_size": 3, "rng": rng(), "drop_last": False},
                             cases=[("range", "batch_size", 11)]),
    "optim.sgd_epoch": Row(
        lambda: {"params": [floats(2, 3), floats(2)], "grad_fn": lambda p, idx: (0.0, [np.zeros_like(q) for q in p]),
                 "n": 6, "batch_size": 2, "lr": 0.1, "rng": rng(), "trace": []},
        cases=[("empty", "params", []), ("nan", "params", [np.full((2, 3), np.nan), floats(2)]),
               ("shape", "grad_fn", lambda p, idx: (0.0, [np.zeros(3), np.zeros(2)])),
               ("length", "grad_fn", lambda p, idx: (0.0, [np.zeros((2, 3))])), ("range", "batch_size", 7)]),
    "optim.minibatch_variance": Row(lambda: {"sigma2": 2.0, "n": 10, "m": 3, "replace": False},
                                    cases=[("range", "m", 11)], fine={("sigma2", "zero"): "equal gradients"}),
    "optim.QuadraticBowl": Row(lambda: {"alpha": 1.0, "beta": 10.0}),
    **{f"optim.QuadraticBowl.{name}": Row(
        lambda: {"v": floats(2)}, call=getattr(optim.QuadraticBowl(1.0, 2.0), name),
        fine={("v", "nan"): "NaN propagates: a diverged run is a result", ("v", "inf"): "inf propagates"})
       for name in ["__call__", "grad"]},
    "optim.QuadraticBowl.contraction": Row(lambda: {"lr": 0.1}, call=optim.QuadraticBowl(1.0, 2.0).contraction),
    # --- backprop ---
    "backprop.dense_forward": Row(lambda: {"X": floats(4, 3), "W": floats(2, 3), "b": floats(2), "activation": "relu"},
                                  cases=[("shape", "W", floats(2, 4))], fine={("X", "empty"): EMPTY_BATCH}),
    "backprop.dense_backward": Row(lambda: {"dH": floats(4, 2), "X": floats(4, 3), "W": floats(2, 3),
                                            "A": floats(4, 2), "activation": "tanh"},
                                   cases=[("length", "dH", floats(3, 2)), ("shape", "A", floats(4, 3))]),
    "backprop.layer_activations": Row(lambda: {"n_layers": 3, "activation": "relu", "output_activation": "sigmoid"}),
    "backprop.forward": Row(lambda: {"X": floats(5, 3), "weights": W_, "biases": B_, "activation": "relu",
                                     "output_activation": "identity"},
                            cases=layers_cases(W_, B_), fine={("X", "empty"): EMPTY_BATCH}),
    "backprop.backward": Row(
        lambda: {"dOut": floats(5, 2), "weights": W_, "cache": backprop.forward(floats(5, 3), W_, B_)[1],
                 "activation": "relu", "output_activation": "identity"},
        cases=[("length", "cache", backprop.forward(floats(5, 3), W_, B_)[1][:1]),
               ("shape", "cache", [(floats(5, 3), floats(5, 4)), (floats(5, 4), floats(5, 3))]),
               ("length", "dOut", floats(4, 2)), ("shape", "weights", [W_[0], W_[1].T])]),
    "backprop.loss_and_gradients": Row(
        lambda: {**training_data(), "loss": "softmax_cross_entropy", "activation": "relu",
                 "output_activation": "identity"},
        cases=layers_cases(W_, B_) + [("length", "Y", np.eye(2)[[0, 1, 0]]), ("shape", "Y", np.ones((8, 3)))]),
    "backprop.path_counts": Row(lambda: {"widths": [3, 4, 2]}, cases=[("zero", "widths", [3, 0, 2])]),
    "backprop.train": Row(
        lambda: {**training_data(), "epochs": 2, "lr": 0.1, "batch_size": 3, "rng": rng(),
                 "loss": "softmax_cross_entropy", "activation": "relu", "output_activation": "identity"},
        cases=layers_cases(W_, B_) + [("length", "Y", np.eye(2)[[0, 1, 0]]), ("range", "batch_size", 9)]),
    # --- autograd ---
    "autograd.Value": Row(lambda: {"data": 2.0, "label": "x"},
                          fine={("data", "inf"): "inf is a float value", ("data", "zero"): ANY,
                                ("data", "negative"): ANY, ("label", "unknown"): "a label is free text"}),
    "autograd.draw_graph": Row(lambda: {"root": autograd.Value(2.0) * 3.0, "ax": plt.subplots()[1],
                                        "show_grad": True, "fontsize": 9.0},
                               cases=[("type", "root", 3.0), ("type", "ax", 3)]),
    # --- linear ---
    "linear.init_params": Row(lambda: {"d": 3, "k": 2, "rng": rng(), "scale": 0.01},
                              fine={("scale", "zero"): "W = 0 is a valid start"}),
    "linear.forward": Row(lambda: {"X": floats(4, 3), "W": floats(2, 3), "b": floats(2)},
                          cases=[("shape", "W", floats(2, 4))], fine={("X", "empty"): EMPTY_BATCH}),
    "linear.backward": Row(lambda: {"X": floats(4, 3), "dA": floats(4, 2)}, cases=[("length", "dA", floats(3, 2))]),
    **{f"linear.{name}": Row(lambda: {"params": [floats(2, 3), floats(2)], "X": floats(5, 3), "Y": floats(5, 2)},
                             cases=[("length", "params", [floats(2, 3)]), ("shape", "params", [floats(3, 2), floats(2)]),
                                    ("length", "Y", floats(4, 2)), ("shape", "Y", floats(5, 3))],
                             call=getattr(linear, name))
       for name in ["cost_and_gradients", "per_example_gradients"]},
    "linear.batch_gradient_fn": Row(lambda: {"X": floats(5, 3), "Y": floats(5, 2)}, cases=[("length", "Y", floats(4, 2))]),
    "linear.flatten": Row(lambda: {"params": [floats(2, 3), floats(2)]}, cases=[("empty", "params", [])]),
    "linear.hessian": Row(lambda: {"X": floats(5, 3)}),
    "linear.predict": Row(lambda: {"X": floats(4, 3), "W": floats(2, 3), "b": floats(2)},
                          fine={("X", "empty"): EMPTY_BATCH}),
    "linear.accuracy": Row(lambda: {"X": floats(4, 3), "y": np.array([0, 1, 1, 0]), "W": floats(2, 3), "b": floats(2)},
                           cases=[("length", "y", np.array([0, 1, 1])), ("range", "y", np.array([0, 1, 2, 0]))]),
    # --- training ---
    "training.reset_parameters": Row(lambda: {"model": torch.nn.Linear(2, 3), "seed": 1},
                                     cases=[("empty", "model", torch.nn.ReLU())],
                                     fine={("seed", "zero"): "seed 0 is a seed"}),
    **{f"training.{name}": Row(lambda: {"model": torch.nn.Linear(2, 3), "X": blobs32(), "batch_size": 4},
                               cases=[("shape", "X", np.ones((6, 5), np.float32))], call=getattr(training, name))
       for name in ["outputs", "predict"]},
    "training.accuracy": Row(lambda: {"y_true": np.array([0, 1, 2]), "y_pred": np.array([0, 2, 2])},
                             cases=[("length", "y_pred", np.array([0, 1]))],
                             fine={("y_true", "float"): "values are compared, whatever their dtype",
                                   ("y_pred", "float"): "values are compared, whatever their dtype"}),
    "training.confusion_matrix": Row(lambda: {"y_true": np.array([0, 1, 2]), "y_pred": np.array([0, 2, 2]),
                                              "n_classes": 3},
                                     cases=[("length", "y_pred", np.array([0, 1])), ("range", "y_true", np.array([0, 1, 3])),
                                            ("range", "y_pred", np.array([-1, 1, 2]))]),
    "training.fit": Row(
        lambda: {"model": torch.nn.Linear(2, 3), "X": blobs32(), "y": np.array([0, 1, 2, 0, 1, 2]), "epochs": 1,
                 "lr": 0.1, "batch_size": 2, "seed": 0, "X_val": blobs32()[:3], "y_val": np.array([0, 1, 2]),
                 "progress": False, "desc": "training"},
        cases=[("length", "y", np.array([0, 1, 2])), ("range", "y", np.array([0, 1, 2, 0, 1, 3])),
               ("shape", "X", np.ones((6, 5), np.float32)), ("type", "optimizer", "sgd"),
               ("unknown", "optimizer", torch.optim.SGD(torch.nn.Linear(2, 3).parameters(), lr=0.1)),  # and lr
               ("type", "loss_fn", 3), ("length", "y_val", np.array([0, 1])),
               ("shape", "X_val", np.ones((3, 4), np.float32))],
        fine={("seed", "zero"): "seed 0 is a seed", ("desc", "unknown"): "a description is free text"},
        expect={("y", "float"): ValueError, ("y_val", "float"): ValueError}),   # float targets (n,) vs outputs (n, 3)
    # --- data ---
    "data.make_blobs": Row(lambda: {"n_per_class": 5, "centers": np.array([[0.0, 0.0], [3.0, 3.0]]), "std": 0.5,
                                    "rng": rng()}, fine={("std", "zero"): "points exactly at the centers"}),
    "data.make_xor": Row(lambda: {"n": 10, "rng": rng(), "noise": 0.1}, fine={("noise", "zero"): "the exact corners"}),
    "data.make_moons": Row(lambda: {"n": 10, "rng": rng(), "noise": 0.1}, fine={("noise", "zero"): "exact half circles"}),
    "data.make_spirals": Row(lambda: {"n_per_class": 5, "n_classes": 3, "rng": rng(), "noise": 0.2},
                             fine={("noise", "zero"): "exact spirals"}),
    "data.load_digits": Row(lambda: {"verbose": False}),
    "data.train_test_split": Row(
        lambda: {"X": floats(10, 2), "y": np.arange(10), "test_fraction": 0.3, "rng": rng()},
        cases=[("length", "y", np.arange(3)), ("range", "test_fraction", 1.0), ("range", "test_fraction", 0.99)],
        fine={("X", "shape"): "rows of any shape can be split", ("y", "shape"): "rows of any shape can be split",
              ("y", "float"): "targets of any dtype can be split"}),
    "data.one_hot": Row(lambda: {"y": np.array([0, 2, 1]), "n_classes": 3, "dtype": np.float32},
                        cases=[("shape", "y", np.array([[0], [2], [1]])),            # (n, 1) labels
                               ("range", "y", np.array([0, 3])), ("range", "y", np.array([-1, 0])),
                               ("dtype", "dtype", "text")],
                        fine={("y", "empty"): "no labels, no rows"}),
    "data.load_mnist_or_digits": Row(lambda: {"split": "train", "download": False, "verbose": False}, runs=False),
    "data.load_real_images": Row(lambda: {"n_train": 100, "n_test": 50, "rng": rng(), "flatten": True, "cache_dir": str(TMP),
                                          "download": False, "verbose": False},
                                 cases=[("type", "cache_dir", 3)], fine={("cache_dir", "unknown"): NEW_FOLDER},
                                 runs=False),
    "device.pick_device": Row(lambda: {"verbose": False}),
    "selfcheck.check_my_work": Row(lambda: {"namespace": {"x": 1}, "exercises": [("1.1", "x", 2, ["assert x == 1"])]},
                                   cases=[("type", "namespace", [("x", 1)]), ("type", "exercises", [("1.1", "x")]),
                                          ("type", "exercises", [("1.1", "x", 2, "assert x == 1")])]),
    "report.glue": Row(lambda: {"name": "ch00_value", "value": 0.5, "display": False},
                       cases=[("format", "name", "1st value"), ("format", "name", "")],
                       fine={("name", "unknown"): "any key of letters, digits and - _ . is a name",
                             ("value", "type"): "any displayable value may be glued",
                             ("value", "zero"): ANY, ("value", "negative"): ANY}),
    # --- idx, mnist: the files of MNIST-format data sets ---
    "idx.read_bytes": Row(lambda: {"path": idx_file()}, expect={("path", "unknown"): FileNotFoundError}),
    "idx.read_idx": Row(lambda: {"path": idx_file()}, expect={("path", "unknown"): FileNotFoundError}),
    "idx.parse_idx": Row(lambda: {"raw": Path(idx_file()).read_bytes(), "source": "labels.idx"},
                         cases=[("type", "raw", "text"), ("type", "raw", None)],
                         fine={("source", "type"): "a label for messages: anything printable",
                               ("source", "unknown"): "a label for messages: any text"}),
    "idx.write_idx": Row(lambda: {"path": str(TMP / "out.idx"), "array": np.arange(6.0).reshape(2, 3)},
                         cases=[("dtype", "array", np.arange(3, dtype=np.int64))],
                         fine={("array", c): "IDX stores any array of a supported dtype"
                               for c in ("shape", "empty", "nan", "inf")} | {("path", "unknown"): "a new file"}),
    "mnist.data_places": Row(lambda: {"name": "mnist", "cache_dir": str(TMP)},
                             fine={("cache_dir", "unknown"): NEW_FOLDER}),
    "mnist.idx_array": Row(lambda: {"name": "mnist", "stem": "t10k-labels-idx1-ubyte", "cache_dir": str(TMP),
                                    "download": False}, fine={("cache_dir", "unknown"): NEW_FOLDER}, runs=False),
    "mnist.load_mnist": Row(lambda: {"name": "mnist", "split": "test", "cache_dir": str(TMP), "download": False,
                                     "verbose": False}, fine={("cache_dir", "unknown"): NEW_FOLDER}, runs=False),
    # --- runtime, playground: notebooks in Jupyter, Colab and the book ---
    "runtime.pick": Row(lambda: {"full": 200, "quick": 5}, fine={("full", "*"): ANY, ("quick", "*"): ANY}),
    "playground.control_grid": Row(lambda: {"widget": slider(), "count": 3}, cases=[("type", "widget", 3)]),
    "playground.static_html": Row(
        lambda: {"draw": draw, "widgets": [slider()], "frames": {"a": [0, 1]}, "max_frames": 10, "fmt": "png",
                 "dpi": 20.0},
        cases=[("type", "widgets", 3), ("type", "frames", [0, 1]), ("unknown", "frames", {"b": [0]}),
               ("range", "max_frames", 1)]),
    "playground.playground": Row(
        lambda: {"draw": draw, "frames": {"a": [0, 1]}, "max_frames": 10, "fmt": "png", "dpi": 20.0},
        cases=[("type", "frames", [0, 1])], call=lambda **kw: playground.playground(**kw, a=(0, 2))),
    # --- checks ---
    "checks.central_difference": Row(lambda: {"f": np.sin, "x": floats(3), "h": 1e-5},
                                     fine={("x", "shape"): "elementwise: any shape"}),
    "checks.numerical_gradient": Row(lambda: {"f": lambda x: float(np.sum(x ** 2)), "x": floats(3), "h": 1e-5},
                                     cases=[("shape", "f", lambda x: x ** 2)],        # not a scalar function
                                     fine={("x", "shape"): "a function of an array of any shape"}),
    "checks.compare": Row(lambda: {"name": "W", "mine": floats(3), "reference": floats(3), "rtol": 1e-5, "atol": 1e-7,
                                   "verbose": False},
                          fine={("name", "unknown"): "a name is free text", ("rtol", "zero"): "exact comparison",
                                ("atol", "zero"): "relative comparison only",
                                **{(a, c): "compare reports a mismatch (False); it does not raise"
                                   for a in ("mine", "reference") for c in ("shape", "empty", "nan", "inf")}}),
    "checks.compare_grads": Row(lambda: {"mine": {"W": floats(3)}, "reference": {"W": floats(3)}, "rtol": 1e-5,
                                         "atol": 1e-7, "verbose": False},
                                cases=[("type", "mine", "W"), ("type", "reference", None)],
                                fine={("rtol", "zero"): "exact comparison", ("atol", "zero"): "relative only"}),
    # --- plotting ---
    "plotting.plot_decision_regions": Row(
        lambda: {"ax": plt.subplots()[1], "predict": lambda P: (P[:, 0] > 0).astype(int), "X": floats(6, 2),
                 "y": np.array([0, 1] * 3), "resolution": 20, "padding": 0.5, "title": "t"},
        cases=[("length", "y", np.array([0, 1])), ("shape", "predict", lambda P: np.zeros(3)), ("type", "ax", None),
               ("range", "resolution", 1), ("type", "title", 3)],
        fine={("padding", "zero"): "no margin", ("title", "unknown"): "a title is free text",
              ("y", "float"): "labels of any dtype"}),
    "plotting.plot_confusion_matrix": Row(
        lambda: {"ax": plt.subplots()[1], "C": np.array([[3, 1], [0, 2]]), "title": "t", "labels": ["a", "b"]},
        cases=[("type", "ax", None), ("shape", "C", np.ones((2, 3))), ("negative", "C", np.array([[1, -1], [0, 2]])),
               ("length", "labels", ["a"])],
        fine={("title", "unknown"): "a title is free text", ("C", "float"): "counts may be stored as floats"}),
    "plotting.plot_image_grid": Row(
        lambda: {"axes": plt.subplots(1, 3)[1], "images": np.zeros((2, 16)), "titles": ["a", "b"], "side": 4},
        cases=[("length", "titles", ["a"]), ("range", "side", 3), ("type", "axes", [3]),
               ("ndim", "images", np.zeros((2, 4, 4, 1)))],
        fine={("images", "shape"): "a stack (n, h, w) of 2-D images is valid too"}),
    # --- init (chapter 6) ---
    "init.activation_gain": Row(lambda: {"activation": "tanh"}),
    "init.weight_std": Row(lambda: {"scheme": "glorot_uniform", "n_out": 3, "n_in": 4, "gain": 1.0},
                           cases=[("combination", "scheme", "standard")]),          # 'standard' takes no gain
    "init.init_weights": Row(lambda: {"scheme": "he_normal", "n_out": 3, "n_in": 4, "rng": rng(), "gain": 1.5,
                                      "dtype": np.float32}, cases=[("dtype", "dtype", np.int64)]),
    "init.init_network": Row(lambda: {"widths": [3, 4, 2], "scheme": "orthogonal", "rng": rng(), "gain": 1.0,
                                      "dtype": np.float64}, cases=[("zero", "widths", [3, 0])]),
    "init.forward_variances": Row(
        lambda: {"widths": [3, 4, 2], "weight_variances": [0.1, 0.2], "input_second_moment": 1.0, "activation": "relu"},
        cases=[("length", "weight_variances", [0.1]), ("negative", "weight_variances", [0.1, -0.2]),
               ("unknown", "activation", "tanh")],            # no closed form for tanh
        fine={("input_second_moment", "zero"): "zero inputs give zero variances"}),
    "init.backward_variances": Row(
        lambda: {"widths": [3, 4, 2], "weight_variances": [0.1, 0.2], "output_variance": 1.0, "activation": "identity"},
        cases=[("length", "weight_variances", [0.1, 0.2, 0.3]), ("nan", "weight_variances", [0.1, float("nan")])],
        fine={("output_variance", "zero"): "a zero error signal stays zero"}),
    # --- diagnostics ---
    **{f"diagnostics.{name}": Row(
        lambda: {**training_data(), "activation": "tanh", "output_activation": "identity", "loss": "softmax_cross_entropy"},
        cases=layers_cases(W_, B_) + [("length", "Y", np.eye(2)[[0, 1, 0]]), ("shape", "Y", np.ones((8, 3)))],
        call=getattr(diagnostics, name))
       for name in ["layer_signals", "gradient_norms"]},
    "diagnostics.plot_per_layer": Row(
        lambda: {"ax": plt.subplots()[1], "values": {"a": np.array([1.0, 0.5])}, "ylabel": "norm", "title": "t",
                 "marker": "o-"},
        cases=[("type", "ax", None), ("empty", "values", {}), ("shape", "values", {"a": np.ones((2, 2))})],
        fine={("ylabel", "unknown"): "a label is free text", ("title", "unknown"): "a title is free text"}),
    # --- regularization and generalization (chapter 8) ---
    **{f"regularization.{name}": Row(lambda: {"W": floats(3, 4), "lam": 0.1},
                                     fine={("W", "shape"): "weights of any shape", ("W", "empty"): "no weights, no penalty",
                                           ("lam", "zero"): "lam = 0 is no regularization"})
       for name in ["l2_penalty", "l2_gradient", "l1_penalty", "l1_subgradient"]},
    "regularization.soft_threshold": Row(lambda: {"W": floats(3, 4), "t": 0.1},
                                         fine={("W", "shape"): "weights of any shape", ("W", "empty"): "no weights",
                                               ("t", "zero"): "t = 0 is the identity"}),
    "regularization.sgd_weight_decay_step": Row(lambda: {"W": floats(3, 4), "grad": floats(3, 4, seed=1), "lr": 0.1,
                                                         "lam": 0.01},
                                                fine={("lam", "zero"): "plain SGD"}),
    "regularization.max_norm": Row(lambda: {"W": floats(3, 4), "c": 1.0}),
    "regularization.dropout_mask": Row(lambda: {"shape": (3, 4), "p": 0.5, "rng": rng(), "dtype": np.float32},
                                       cases=[("type", "shape", [3, 4]), ("range", "p", 1.0)],
                                       fine={("p", "zero"): "p = 0 keeps every unit"}),
    "regularization.dropout_forward": Row(lambda: {"H": floats(3, 4), "p": 0.5, "rng": rng(), "train": True},
                                          cases=[("range", "p", 1.0)],
                                          fine={("H", "shape"): "activations of any shape",
                                                ("p", "zero"): "p = 0 keeps every unit"}),
    "regularization.dropout_backward": Row(lambda: {"dOut": floats(3, 4), "mask": np.full((3, 4), 2.0)},
                                           cases=[("shape", "mask", np.ones((4, 3)))]),
    "regularization.ridge_solution": Row(lambda: {"X": floats(6, 2), "y": floats(6, seed=1), "lam": 0.1},
                                         cases=[("length", "y", floats(5, seed=1))],
                                         fine={("lam", "zero"): "least squares"}),
    "regularization.conv2d_as_matrix": Row(lambda: {"kernel": floats(2, 2), "height": 4, "width": 3},
                                           cases=[("range", "height", 1)]),
    "generalization.train_val_test_split": Row(
        lambda: {"X": floats(10, 2), "y": np.arange(10), "val_fraction": 0.2, "test_fraction": 0.2, "rng": rng()},
        cases=[("length", "y", np.arange(9)), ("range", "val_fraction", 0.9)],
        fine={("X", "shape"): "examples of any shape", ("y", "shape"): "targets of any shape",
              ("y", "float"): "float targets"}),
    "generalization.kfold_indices": Row(lambda: {"n": 10, "k": 3, "rng": rng()}, cases=[("range", "k", 11)]),
    "generalization.EarlyStopping": Row(lambda: {"patience": 2, "min_delta": 0.01},
                                        fine={("min_delta", "zero"): "any decrease improves"}),
    "generalization.EarlyStopping.update": Row(
        lambda: {"loss": 0.5, "state": floats(2)}, call=generalization.EarlyStopping(2).update,
        fine={("state", "*"): "any state is copied as it is", ("loss", "zero"): "a loss may be 0",
              ("loss", "negative"): "a loss may be negative (a log-density)"}),
    "generalization.ensemble_average": Row(lambda: {"probabilities": rng(1).dirichlet(np.ones(3), size=(2, 4))},
                                           cases=[("range", "probabilities", np.full((2, 4, 3), 0.5))]),
    "generalization.polynomial_features": Row(lambda: {"x": floats(5), "degree": 3}),
    "generalization.bias_variance": Row(lambda: {"predictions": floats(4, 3), "target": floats(3, seed=1)}),
    "regularized_fit.fit_regularized": Row(
        lambda: {"model": torch.nn.Linear(3, 2).double(), "X": floats(6, 3), "y": np.array([0, 1] * 3),
                 "X_val": floats(4, 3, seed=1), "y_val": np.array([0, 1, 1, 0]), "epochs": 1, "lr": 0.01,
                 "batch_size": 2, "seed": 0, "weight_decay": 0.01, "l1": 0.001, "label_smoothing": 0.1,
                 "augment": lambda X, r: X, "patience": 1, "progress": False},
        cases=[("length", "y", np.array([0, 1])), ("length", "y_val", np.array([0, 1]))],
        fine={("seed", "zero"): "seed 0 is a seed", ("weight_decay", "zero"): "no decay", ("l1", "zero"): "no L1",
              ("label_smoothing", "zero"): "no smoothing"}),
    "generalization.augment_images": Row(lambda: {"images": floats(2, 6, 6), "rng": rng(), "max_shift": 1,
                                                  "max_angle": 10.0},
                                         cases=[("range", "max_angle", 200.0)],
                                         fine={("max_shift", "zero"): "no shift", ("max_angle", "zero"): "no rotation"}),
    # --- chapter 9: hyperparameter search ---
    "search.log_uniform": Row(lambda: {"low": 1e-3, "high": 1e-1, "size": 5, "rng": rng()},
                              cases=[("range", "high", 1e-4)]),                        # high below low
    "search.grid_points": Row(lambda: {"levels": 3, "d": 2}),
    "search.hyperband_schedule": Row(lambda: {"R": 81, "eta": 3}, cases=[("range", "R", 0.5), ("range", "eta", 1)],
                                     fine={("R", "fraction"): "a budget may be any real number >= 1"}),
    "search.successive_halving": Row(
        lambda: {"evaluate": lambda ids, b: ids / b, "ids": np.arange(9), "r": 1.0, "eta": 3, "n_rungs": 2}),
    "search.hyperband": Row(lambda: {"sample": lambda n: np.arange(n), "evaluate": lambda ids, b: ids / b, "R": 9,
                                     "eta": 3},
                            fine={("R", "fraction"): "a budget may be any real number >= 1"}),
    "search.best_so_far": Row(
        lambda: {"ids": np.array([0, 1, 0]), "budgets": np.array([1.0, 1.0, 3.0]), "losses": np.array([0.5, 0.4, 0.3]),
                 "R": 3.0, "resume": False},
        cases=[("length", "losses", np.array([0.5, 0.4]))],
        fine={("losses", "inf"): "a diverged run has an infinite loss"}),
    "search.toy_true_loss": Row(lambda: {"U": floats(5, 4), "center": np.full(4, 0.5),
                                         "weights": np.array([1.0, 0.5, 0.02, 0.02])},
                                cases=[("negative", "weights", np.array([1.0, -0.5, 0.0, 0.0]))]),
    "search.toy_loss": Row(lambda: {"U": floats(5, 4), "budget": 9.0, "center": np.full(4, 0.5),
                                    "weights": np.array([1.0, 0.5, 0.02, 0.02]), "R": 81.0, "rng": rng(), "noise": 0.1},
                           cases=[("range", "R", 3.0)],                                  # R below the budget
                           fine={("noise", "zero"): "noise-free learning curves"}),
    "bayesopt.rbf_kernel": Row(lambda: {"A": floats(3, 2), "B": floats(4, 2, seed=1), "length_scale": 0.2,
                                        "variance": 1.0}),
    "bayesopt.gp_posterior": Row(
        lambda: {"X": floats(5, 2), "y": floats(5, seed=1), "X_star": floats(3, 2, seed=2), "length_scale": 0.5,
                 "variance": 1.0, "noise": 1e-3},
        cases=[("length", "y", floats(4))], fine={("noise", "zero"): "noise-free observations"}),
    "bayesopt.expected_improvement": Row(
        lambda: {"mu": floats(3), "sigma": np.array([0.5, 0.0, 2.0]), "best": 0.1, "xi": 0.01},
        cases=[("negative", "sigma", np.array([0.5, -1.0, 2.0]))],
        fine={("best", "zero"): "any real best loss", ("best", "negative"): "any real best loss",
              ("xi", "zero"): "no margin"}),
    "bayesopt.fit_gp": Row(lambda: {"X": floats(5, 2), "y": floats(5, seed=1), "noise": 1e-4},
                           cases=[("length", "y", floats(4))]),
    "bayesopt.bayes_opt": Row(
        lambda: {"objective": lambda u: float(u.sum()), "d": 2, "n_init": 2, "n_iter": 1, "rng": rng(),
                 "n_candidates": 20, "noise": 1e-4},
        fine={("n_iter", "zero"): "the random start alone"}),
    "genetic.next_generation": Row(
        lambda: {"population": floats(4, 2), "losses": floats(4, seed=1), "n_elite": 0,
                 "tournaments": rng().integers(0, 4, size=(4, 2, 2)), "masks": np.ones((4, 2), bool),
                 "noise": floats(4, 2, seed=2)},
        cases=[("dtype", "masks", np.ones((4, 2))), ("shape", "masks", np.ones((4, 3), bool)),
               ("range", "tournaments", np.full((4, 2, 2), 4)), ("range", "n_elite", 5)],
        fine={("n_elite", "zero"): "no elitism", ("losses", "inf"): "a diverged run has an infinite loss"}),
    "genetic.ga_generation": Row(
        lambda: {"population": floats(4, 2), "losses": floats(4, seed=1), "rng": rng(), "n_elite": 1,
                 "tournament_size": 2, "mutation_rate": 0.2, "mutation_scale": 0.1},
        cases=[("range", "mutation_rate", 1.5), ("range", "n_elite", 5)],
        fine={("n_elite", "zero"): "no elitism", ("mutation_rate", "zero"): "no mutation",
              ("mutation_scale", "zero"): "no mutation", ("losses", "inf"): "a diverged run has an infinite loss"}),
    "genetic.genetic_search": Row(
        lambda: {"objective": lambda u: float(u.sum()), "d": 2, "pop_size": 3, "n_generations": 1, "rng": rng(),
                 "n_elite": 1, "tournament_size": 2, "mutation_rate": 0.2, "mutation_scale": 0.1},
        cases=[("range", "n_elite", 4)],
        fine={("n_generations", "zero"): "the random start alone", ("n_elite", "zero"): "no elitism",
              ("mutation_rate", "zero"): "no mutation", ("mutation_scale", "zero"): "no mutation"}),
    # --- optimizers (chapter 7) ---
    "optimizers.Optimizer": Row(lambda: {"lr": 0.1, "weight_decay": 0.01}, fine={("weight_decay", "zero"): "no decay"}),
    "optimizers.Optimizer.step": Row(
        lambda: {"params": [floats(3)], "grads": [floats(3, seed=1)]}, call=lambda **kw: optimizers.SGD(0.1).step(**kw),
        cases=[("length", "grads", [floats(3), floats(3)]), ("shape", "grads", [floats(4)]),
               ("type", "params", [[1.0, 2.0, 3.0]]), ("dtype", "params", [np.arange(3)])]),
    "optimizers.SGD": Row(lambda: {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
                          cases=[("range", "momentum", 1.0)],
                          fine={("momentum", "zero"): "plain SGD", ("dampening", "zero"): "no dampening (torch's default)",
                                ("weight_decay", "zero"): "no decay"}),
    "optimizers.HeavyBall": Row(lambda: {"lr": 0.1, "momentum": 0.9}, fine={("momentum", "zero"): "plain GD"}),
    "optimizers.Adagrad": Row(lambda: {"lr": 0.01, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                                       "eps": 1e-10},
                              fine={("lr_decay", "zero"): "no decay (torch's default)", ("weight_decay", "zero"): "no decay",
                                    ("initial_accumulator_value", "zero"): "torch's default",
                                    ("eps", "zero"): "allowed, as in torch"}),
    "optimizers.RMSprop": Row(lambda: {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                                       "centered": False},
                              fine={("alpha", "zero"): "no memory: r = g^2", ("eps", "zero"): "allowed, as in torch",
                                    ("weight_decay", "zero"): "no decay", ("momentum", "zero"): "torch's default"}),
    "optimizers.Adadelta": Row(lambda: {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
                               fine={("rho", "zero"): "no memory", ("weight_decay", "zero"): "no decay"}),
    "optimizers.Adam": Row(lambda: {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "decoupled": False},
                           cases=[("length", "betas", (0.9,)), ("range", "betas", (0.9, 1.5)), ("type", "betas", 0.9)],
                           fine={("eps", "zero"): "allowed, as in torch", ("weight_decay", "zero"): "no decay"}),
    "optimizers.AdamW": Row(lambda: {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
                            cases=[("length", "betas", (0.9, 0.9, 0.9))],
                            fine={("eps", "zero"): "allowed, as in torch", ("weight_decay", "zero"): "no decay"}),
    **{f"stabilizers.{name}": Row(lambda extra=extra: {"grads": [floats(3), floats(2, 2, seed=1)], **extra},
                                  cases=[("empty", "grads", []), ("dtype", "grads", [np.full(3, "x")])],
                                  fine={("eps", "zero"): "allowed, as in torch"} if "eps" in extra else {})
       for name, extra in (("clip_by_value", {"clip_value": 1.0}), ("global_norm", {}),
                           ("clip_by_global_norm", {"max_norm": 1.0, "eps": 1e-6}))},
    "stabilizers.polyak_averages": Row(lambda: {"iterates": floats(5, 2), "beta": 0.9},
                                       cases=[("range", "beta", 1.0)],
                                       fine={("iterates", "nan"): "a diverged run's iterates are averaged as they are",
                                             ("iterates", "inf"): "a diverged run's iterates are averaged as they are",
                                             ("iterates", "shape"): "iterates of any shape, stacked on axis 0",
                                             ("beta", "zero"): "beta = 0 keeps the last iterate"}),
    "stabilizers.ParameterAverage": Row(lambda: {"beta": 0.9}, fine={("beta", "zero"): "beta = 0 keeps the last iterate"}),
    "stabilizers.ParameterAverage.update": Row(lambda: {"params": [floats(3)]},
                                               call=lambda **kw: stabilizers.ParameterAverage().update(**kw),
                                               cases=[("dtype", "params", [np.full(3, "x")])]),
    "schedules.step_decay": Row(lambda: {"lr0": 0.1, "step_size": 5, "gamma": 0.5}),
    "schedules.cosine_decay": Row(lambda: {"lr0": 0.1, "n_steps": 10, "lr_min": 0.0}, cases=[("range", "lr_min", 0.5)],
                                  fine={("lr_min", "zero"): "decay to 0"}),
    "schedules.linear_warmup": Row(lambda: {"lr0": 0.1, "n_steps": 5, "start_factor": 0.3}),
    "second_order.newton_step": Row(lambda: {"grad": floats(3), "hessian": np.diag([1.0, 2.0, 3.0])}),
    "second_order.conjugate_gradient": Row(lambda: {"A": np.diag([1.0, 2.0, 3.0]), "b": floats(3), "x0": floats(3, seed=1),
                                                    "n_steps": 3}, fine={("n_steps", "zero"): "no step: [x0]"}),
    "second_order.bfgs_update": Row(lambda: {"G": np.eye(3), "s": np.array([1.0, 2.0, 3.0]), "y": np.array([1.0, 1.0, 1.0])},
                                    cases=[("negative", "y", np.array([-1.0, -1.0, -1.0]))]),   # y^T s <= 0
    "second_order.lbfgs_direction": Row(lambda: {"grad": floats(3), "S": np.eye(3)[:2], "Y": 2 * np.eye(3)[:2]},
                                        cases=[("shape", "Y", np.eye(3)[:1])]),
    "second_order.minimize": Row(lambda: {"fun": lambda x: (float(x @ x), 2 * x), "x0": floats(3), "method": "bfgs",
                                          "max_iter": 5, "tol": 1e-6, "memory": 3, "lr": 1.0},
                                 fine={("tol", "zero"): "run max_iter iterations"}),
    **{f"surfaces.Surface.{name}": Row(lambda: {"v": floats(2)}, call=getattr(surfaces.SURFACES["rosenbrock"], name),
                                       fine={("v", "nan"): "NaN propagates: divergence is a result",
                                             ("v", "inf"): "inf propagates: divergence is a result"})
       for name in ("__call__", "grad", "hessian")},
    "surfaces.get_surface": Row(lambda: {"name": "ravine"}),
    "surfaces.trajectory": Row(lambda: {"optimizer": optimizers.SGD(0.1), "grad": lambda v: v, "v0": floats(2), "n_steps": 3,
                                        "noise": 0.1, "rng": rng()},
                               cases=[("type", "optimizer", 3)],
                               fine={("n_steps", "zero"): "no step: [v0]", ("noise", "zero"): "exact gradients"}),
    "race.step_for_step": Row(lambda: {"optimizer": optimizers.SGD(0.1), "make_torch": lambda p: torch.optim.SGD(p, lr=0.1),
                                       "widths": [3, 4, 2], "n_steps": 2, "rng": rng(), "n": 10, "batch_size": 4,
                                       "max_norm": 1.0, "activation": "tanh"},
                              cases=[("type", "optimizer", 3), ("range", "batch_size", 11)]),
    "race.train_mlp": Row(lambda: {"X": floats(8, 3), "y": np.array([0, 1] * 4), "X_val": floats(4, 3, seed=1),
                                   "y_val": np.array([0, 1, 1, 0]), "widths": [3, 4, 2], "optimizer": optimizers.SGD(0.1),
                                   "epochs": 1, "batch_size": 4, "rng": rng(), "activation": "relu"},
                          cases=[("length", "y", np.array([0, 1])), ("range", "y", np.array([0, 5] * 4)),
                                 ("type", "optimizer", 3)]),
    "race.race": Row(lambda: {"X": floats(8, 3), "y": np.array([0, 1] * 4), "X_val": floats(4, 3, seed=1),
                              "y_val": np.array([0, 1, 1, 0]), "widths": [3, 4, 2],
                              "candidates": {"sgd": (lambda lr: optimizers.SGD(lr), [0.1])}, "sweep_epochs": 1,
                              "epochs": 1, "batch_size": 4, "seeds": [0], "progress": False},
                     cases=[("type", "candidates", 3), ("empty", "candidates", {}),
                            ("type", "candidates", {"sgd": "adam"})]),
    # --- chapter 10: transfer and federated learning ---
    "transfer.make_net": Row(lambda: {"n_in": 3, "hidden": [4], "n_out": 2, "seed": 0},
                             cases=[("empty", "hidden", []), ("negative", "hidden", [4, -1]),
                                    ("fraction", "hidden", [2.5])],
                             fine={("seed", "zero"): "seed 0 is a seed"}),
    "transfer.count_parameters": Row(lambda: {"model": transfer.make_net(3, [4], 2, 0), "trainable": True}),
    "transfer.freeze_all_but": Row(lambda: {"model": transfer.make_net(3, [4], 2, 0), "head": "head"}),
    "transfer.param_groups": Row(lambda: {"model": transfer.make_net(3, [4], 2, 0), "head": "head", "lr_body": 0.01,
                                          "lr_head": 0.1}),
    "transfer.few_shot": Row(lambda: {"y": np.array([0, 1, 0, 1, 2, 2]), "n_per_class": 2, "rng": rng()},
                             cases=[("range", "n_per_class", 3)]),
    "transfer.adapt": Row(
        lambda: {"source": transfer.make_net(3, [4], 5, 0), "X": floats(6, 3).astype(np.float32),
                 "y": np.array([0, 1, 2, 0, 1, 2]), "n_classes": 3, "mode": "finetune", "epochs": 2, "lr": 0.01,
                 "body_lr_factor": 0.1, "seed": 0},
        cases=[("range", "y", np.array([0, 1, 2, 0, 1, 3])), ("length", "y", np.array([0, 1, 2])),
               ("range", "body_lr_factor", 1.5), ("type", "source", torch.nn.Linear(3, 2))],
        fine={("seed", "zero"): "seed 0 is a seed"}),
    "transfer.body_features": Row(lambda: {"model": transfer.make_net(3, [4], 2, 0), "X": floats(5, 3)},
                                  cases=[("shape", "X", floats(5, 4))]),
    "transfer.pca_2d": Row(lambda: {"F": floats(6, 3)}, cases=[("shape", "F", floats(6, 1))]),
    "federated.dirichlet_split": Row(lambda: {"y": np.array([0, 1, 0, 1, 2, 2]), "n_clients": 3, "alpha": 0.5,
                                              "rng": rng()}),
    "federated.fedavg": Row(
        lambda: {"states": [{"w": torch.ones(2), "n": torch.tensor(3)}, {"w": torch.zeros(2), "n": torch.tensor(1)}],
                 "sizes": np.array([2, 5])},
        cases=[("length", "sizes", np.array([2, 5, 1])), ("negative", "sizes", np.array([2, -1])),
               ("zero", "sizes", np.array([0, 0])), ("empty", "states", []),
               ("shape", "states", [{"w": torch.ones(2)}, {"w": torch.ones(3)}]),
               ("unknown", "states", [{"w": torch.ones(2)}, {"v": torch.ones(2)}]),
               ("nan", "states", [{"w": torch.ones(2)}, {"w": torch.tensor([1.0, float("nan")])}]),
               ("type", "states", [{"w": [1.0, 2.0]}])]),
    "federated.state_bytes": Row(lambda: {"state": {"w": torch.ones(2)}},
                                 cases=[("type", "state", 3), ("type", "state", {"w": [1.0]})]),
    "federated.clip_and_noise": Row(lambda: {"updates": floats(3, 4), "clip": 1.0, "noise_multiplier": 0.5,
                                             "rng": rng()},
                                    fine={("noise_multiplier", "zero"): "no noise: clipping alone"}),
    "federated_training.local_update": Row(
        lambda: {"model": torch.nn.Linear(2, 3), "X": blobs32(), "y": np.array([0, 1, 2, 0, 1, 2]), "epochs": 1,
                 "lr": 0.1, "batch_size": 4, "seed": 0},
        cases=[("length", "y", np.array([0, 1]))], fine={("seed", "zero"): "seed 0 is a seed"}),
    "federated_training.run_fedavg": Row(
        lambda: {"model": torch.nn.Linear(2, 3), "clients": [(blobs32()[:3], np.array([0, 1, 2])),
                                                             (blobs32()[3:], np.array([2, 1, 0]))],
                 "X_test": blobs32(), "y_test": np.array([0, 1, 2, 0, 1, 2]), "rounds": 1, "clients_per_round": 2,
                 "local_epochs": 1, "lr": 0.1, "batch_size": 2, "rng": rng(), "progress": False},
        cases=[("length", "y_test", np.array([0, 1])), ("range", "clients_per_round", 3),
               ("type", "clients", [(blobs32(), np.array([0, 1]), 3)])],
        fine={("rounds", "zero"): "no round: the accuracy of the model as it is"}),
}

EXEMPT = {   # public callables with nothing to check, and why
    "activations.Activation": "a record of (name, f, df) built by the module itself",
    "losses.Loss": "a record of (name, per_example, gradient, unchecked) built by the module itself",
    "perceptron.PerceptronResult": "the record train_perceptron returns",
    "training.History": "the record fit returns",
    "second_order.Result": "the record minimize returns",
    "surfaces.Surface": "a record of (name, start, minimum, extent) built by the module itself (SURFACES)",
    "calibration.ReliabilityBins": "the record reliability_bins returns",
    "selfcheck.SelfCheckResult": "the record check_my_work returns, one per exercise",
    "selfcheck.SelfCheckReport": "the list of records check_my_work returns",
}


def public_callables():
    """{'module.name' or 'module.Class.method': callable} over every top-level module of nnlearn
    except validate (the checks themselves, tested below) and the instructor tooling."""
    found = {}
    for info in pkgutil.iter_modules(nnlearn.__path__):
        if info.ispkg or info.name == "validate":
            continue
        module = importlib.import_module(f"nnlearn.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != module.__name__ \
                    or (inspect.isclass(obj) and issubclass(obj, BaseException)):       # exceptions are raised, not called
                continue
            found[f"{info.name}.{name}"] = obj
            if inspect.isclass(obj):
                for method, fn in vars(obj).items():
                    if inspect.isfunction(fn) and (not method.startswith("_") or method == "__call__"):
                        found[f"{info.name}.{name}.{method}"] = fn
    return found


def parameters(fn):
    """The names of the arguments a caller passes (no self, no private _names, no **kwargs passed on)."""
    return [name for name, p in inspect.signature(fn).parameters.items() if name != "self" and not name.startswith("_")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def derived(value):
    """(class, bad value) pairs derived from a valid argument's type."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        first = (0,) * value.ndim
        nan, inf = value.copy(), value.copy()
        nan[first], inf[first] = np.nan, np.inf
        out = [("dtype", np.full(value.shape, "x")), ("nan", nan), ("inf", inf)]
        return out + ([("shape", value[..., None]), ("empty", value[:0])] if value.ndim else [])
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return [("shape", value[..., None]), ("dtype", np.full(value.shape, "x")), ("float", value.astype(float)),
                ("empty", value[:0])]
    if isinstance(value, bool):
        return [("type", "yes")]
    if isinstance(value, int):
        return [("type", "1"), ("fraction", value + 0.5), ("zero", 0), ("negative", -1)]
    if isinstance(value, float):
        return [("type", "1"), ("nan", float("nan")), ("inf", float("inf")), ("zero", 0.0), ("negative", -1.0)]
    if isinstance(value, str):
        return [("type", 3), ("unknown", "no-such-name")]
    if isinstance(value, (list, np.random.Generator, torch.nn.Module, torch.optim.Optimizer)) or callable(value):
        return [("type", 3)]
    return []


def bad_calls():
    for key, row in ROWS.items():
        valid = row.valid()
        for arg, value in valid.items():
            for cls, bad in derived(value):
                yield key, cls, arg, bad
        for cls, arg, bad in row.cases:
            yield key, cls, arg, bad


BAD = list(bad_calls())


def call(key, kwargs):
    row = ROWS[key]
    fn = row.call or public_callables()[key]
    try:
        return fn(**kwargs)
    finally:
        plt.close("all")


def test_every_public_callable_has_a_row_and_every_row_a_callable():
    found = {key: fn for key, fn in public_callables().items() if parameters(fn)}     # nothing to check without
    missing = sorted(set(found) - set(ROWS) - set(EXEMPT))
    assert not missing, f"public callables without a row in tests/test_validation.py: {missing}"
    stale = sorted(set(ROWS) - set(found))
    assert not stale, f"rows for callables that no longer exist (or take no arguments): {stale}"


@pytest.mark.parametrize("key", sorted(ROWS))
def test_every_argument_meets_bad_input(key):
    """Each parameter gets at least one bad call, or a row says why any value goes."""
    row = ROWS[key]
    fn = public_callables()[key]
    covered = {arg for k, _, arg, _ in BAD if k == key} | {arg for arg, cls in row.fine if cls == "*"}
    missing = [p for p in parameters(fn) if p not in covered]
    assert not missing, f"{key}: no bad input for {missing}; add cases to its row"
    named = {arg for arg, _ in row.fine} | {arg for _, arg, _ in row.cases} | set(row.valid())
    assert named <= set(parameters(fn)), f"{key}: the row names arguments it does not take: {named - set(parameters(fn))}"


@pytest.mark.parametrize("key", sorted(k for k, row in ROWS.items() if row.runs))
def test_the_valid_call_works(key):
    call(key, ROWS[key].valid())


@pytest.mark.parametrize("key, cls, arg, bad", BAD, ids=[f"{k}-{a}-{c}" for k, c, a, _ in BAD])
def test_bad_input_is_a_clear_error(key, cls, arg, bad, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # a file name as bad input lands here, if anywhere
    row = ROWS[key]
    kwargs = {**row.valid(), arg: bad}
    if (arg, cls) in row.fine or (arg, "*") in row.fine:
        if row.runs:
            call(key, kwargs)              # accepted, as the row says
        return
    expected = row.expect.get((arg, cls), TypeError if cls in TYPE_ERRORS else ValueError)
    with pytest.raises(expected) as info:
        call(key, kwargs)
    message = str(info.value)
    if isinstance(info.value, OSError):              # a file that is not there: the message names the file
        assert str(bad) in message, f"{key}({arg}={cls}): {message}"
        return
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", message), \
        f"{key}({arg}={cls}): the message does not name {arg!r}: {message}"


# --- the helpers themselves, and what the issue reported ---------------------------------------

def test_messages_say_what_was_expected_and_what_arrived():
    from nnlearn.validate import check_array, check_choice, check_positive, check_same_length

    with pytest.raises(ValueError, match=r"Expected X batch_size \(3\) to match y batch_size \(4\)"):
        check_same_length("X", np.ones((3, 2)), "y", np.ones(4))
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 784\), got shape \(5, 28, 28\)"):
        check_array("X", np.ones((5, 28, 28)), shape=("n", 784))
    with pytest.raises(ValueError, match=r"expected X to be finite .* 1 NaN and 1 inf entries \(the first at index \(0, 1\)\)"):
        check_array("X", [[0.0, np.nan], [np.inf, 1.0]])
    with pytest.raises(ValueError, match=r"unknown split 'validation'; expected one of \['test', 'train'\]"):
        check_choice("split", "validation", ("train", "test"))
    with pytest.raises(ValueError, match=r"expected lr > 0, got -0.1"):
        check_positive("lr", -0.1)
    with pytest.raises(TypeError, match=r"expected batch_size to be an integer, got float 2.5"):
        check_positive("batch_size", 2.5, integer=True)


def test_checks_do_not_copy_or_upcast():
    from nnlearn.validate import check_array

    for dtype in (np.float32, np.float64):
        X = np.ones((4, 3), dtype)
        assert check_array("X", X) is X
    assert check_array("X", np.ones(3, np.int64)).dtype == np.float64       # integers become float64
    assert check_array("y", np.arange(3), kind="int").dtype == np.int64


def test_the_examples_of_the_issue():
    from nnlearn.data import load_mnist, one_hot

    with pytest.raises(ValueError, match=r"expected y to be a 1-D array, got 2-D of shape \(4, 1\)"):
        one_hot(np.array([[0], [1], [2], [1]]), 3)                            # was: all ones
    weights, biases = net()
    with pytest.raises(ValueError, match="2 weight matrices and 1 bias vectors"):
        mlp.forward(floats(5, 3), weights, biases[:1])                       # was: a layer silently dropped
    with pytest.raises(ValueError, match=r"expected lr > 0, got -0.1"):
        optim.gd_step(floats(3), floats(3), -0.1)
    X, y = xor()
    with pytest.raises(ValueError, match=r"Expected X batch_size \(4\) to match y batch_size \(5\)"):
        perceptron.train_perceptron(X, np.append(y, 1))                     # extra labels were ignored
    with pytest.raises(ValueError, match="expected X to be finite"):
        perceptron.train_perceptron(np.full((4, 2), np.nan), y)             # was: "converged"
    with pytest.raises(ValueError, match="expected X to be non-empty"):
        perceptron.train_perceptron(np.zeros((0, 2)), np.zeros(0, int))
    with pytest.raises(ValueError, match=r"expected grad of shape \(3,\) to match v of shape \(3,\), got shape \(3, 1\)"):
        optim.gd_step(floats(3), floats(3, 1), 0.1)                         # was: a (3, 3) step
    with pytest.raises(ValueError, match=r"unknown split 'validation'; expected one of \['test', 'train'\]"):
        load_mnist("mnist", "validation", download=False)                  # was: KeyError
    with pytest.raises(ValueError, match=r"expected batch_size in \[1, 10\], got 0"):
        optim.minibatches(10, 0, rng())                                      # was: range() arg 3 must not be zero


def test_masked_logits_give_no_nan():
    """-inf logits (masked entries) get probability 0; a row with one finite logit is fine."""
    Z = np.array([[1.0, -np.inf, 2.0], [-np.inf, -np.inf, 0.5], [0.0, 1.0, 2.0]])
    Y = np.eye(3)[[2, 2, 0]]
    with np.errstate(all="raise"):
        P = losses.softmax(Z)
        logP = losses.log_softmax(Z)
        per_example = losses.softmax_cross_entropy_per_example(Z, Y)
        grad = losses.softmax_cross_entropy_gradient(Z, Y)
    assert not np.isnan(P).any() and not np.isnan(per_example).any() and not np.isnan(grad).any()
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert P[0, 1] == 0 and P[1, 2] == 1 and logP[0, 1] == -np.inf
    Zt = torch.tensor(Z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(Zt, torch.tensor([2, 2, 0]))
    ref.backward()
    assert losses.softmax_cross_entropy(Z, Y) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(P, torch.softmax(torch.tensor(Z), dim=1).numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(grad, Zt.grad.numpy(), rtol=1e-12, atol=1e-15)
    # a target on a masked class costs +inf, as in torch; a fully masked row is an error
    assert losses.softmax_cross_entropy(Z, np.eye(3)[[1, 2, 0]]) == np.inf
    with pytest.raises(ValueError, match=r"every row of Z .* 1 row\(s\) that are all -inf .* row 1"):
        losses.softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))

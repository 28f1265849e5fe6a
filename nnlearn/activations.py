"""Activation functions phi(v) and their derivatives phi'(v), elementwise on numpy arrays.

Each activation is an `Activation(name, f, df)`; `ACTIVATIONS` maps names to them.
Derivatives at kinks follow the convention torch uses: relu'(0) = 0,
hard_tanh'(+-1) = 0, sign'(v) = 0 everywhere (it is undefined at 0).
A float32 input gives a float32 output (integers become float64); +-inf is a valid input, NaN is not.
Each public function checks its argument and calls its unchecked `.kernel`, which inner loops
(nnlearn.backprop) use directly.
"""
import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .validate import check_array, check_callable, check_choice


def elementwise(kernel):
    """The public function of `kernel`: check v (real numbers, no NaN), then apply the kernel."""
    check_callable("kernel", kernel)
    @functools.wraps(kernel)
    def public(v):
        return kernel(check_array("v", v, finite="no-nan", nonempty=False))
    public.kernel = kernel
    return public


@dataclass(frozen=True)
class Activation:
    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]

    def __call__(self, v):
        return self.f(v)


@elementwise
def identity(v):
    return v.copy()


@elementwise
def identity_derivative(v):
    return np.ones_like(v)


@elementwise
def sign(v):
    """sign(v) in {-1, 0, +1}; the perceptron's classic threshold unit."""
    return np.sign(v)


@elementwise
def sign_derivative(v):
    return np.zeros_like(v)


@elementwise
def sigmoid(v):
    """1 / (1 + e^{-v}), computed without overflow for large |v|."""
    e = np.exp(-np.abs(v))                      # always in (0, 1]
    return np.where(v >= 0, 1 / (1 + e), e / (1 + e))


@elementwise
def sigmoid_derivative(v):
    s = sigmoid.kernel(v)
    return s * (1 - s)


@elementwise
def tanh(v):
    return np.tanh(v)


@elementwise
def tanh_derivative(v):
    return 1 - np.tanh(v) ** 2


@elementwise
def relu(v):
    return np.maximum(v, 0)


@elementwise
def relu_derivative(v):
    return (v > 0).astype(v.dtype)


@elementwise
def hard_tanh(v):
    return np.clip(v, -1, 1)


@elementwise
def hard_tanh_derivative(v):
    return ((v > -1) & (v < 1)).astype(v.dtype)


ACTIVATIONS = {
    a.name: a
    for a in [
        Activation("identity", identity, identity_derivative),
        Activation("sign", sign, sign_derivative),
        Activation("sigmoid", sigmoid, sigmoid_derivative),
        Activation("tanh", tanh, tanh_derivative),
        Activation("relu", relu, relu_derivative),
        Activation("hard_tanh", hard_tanh, hard_tanh_derivative),
    ]
}


def get_activation(name: str) -> Activation:
    return ACTIVATIONS[check_choice("activation name", name, ACTIVATIONS)]

"""Activation functions phi(v) and their derivatives phi'(v), elementwise on numpy arrays.

Each activation is an `Activation(name, f, df)`; `ACTIVATIONS` maps names to them.
Derivatives at kinks follow the convention torch uses: relu'(0) = 0,
hard_tanh'(+-1) = 0, sign'(v) = 0 everywhere (it is undefined at 0).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Activation:
    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]

    def __call__(self, v):
        return self.f(v)


def identity(v):
    return np.asarray(v, dtype=float).copy()


def identity_derivative(v):
    return np.ones_like(np.asarray(v, dtype=float))


def sign(v):
    """sign(v) in {-1, 0, +1}; the perceptron's classic threshold unit."""
    return np.sign(np.asarray(v, dtype=float))


def sign_derivative(v):
    return np.zeros_like(np.asarray(v, dtype=float))


def sigmoid(v):
    """1 / (1 + e^{-v}), computed without overflow for large |v|."""
    v = np.asarray(v, dtype=float)
    e = np.exp(-np.abs(v))                      # always in (0, 1]
    return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(v):
    s = sigmoid(v)
    return s * (1.0 - s)


def tanh(v):
    return np.tanh(np.asarray(v, dtype=float))


def tanh_derivative(v):
    return 1.0 - np.tanh(np.asarray(v, dtype=float)) ** 2


def relu(v):
    return np.maximum(np.asarray(v, dtype=float), 0.0)


def relu_derivative(v):
    return (np.asarray(v, dtype=float) > 0).astype(float)


def hard_tanh(v):
    return np.clip(np.asarray(v, dtype=float), -1.0, 1.0)


def hard_tanh_derivative(v):
    v = np.asarray(v, dtype=float)
    return ((v > -1.0) & (v < 1.0)).astype(float)


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
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None

import math

import matplotlib
import numpy as np
import pytest
import torch

from nnlearn.autograd import Value, draw_graph
from nnlearn.checks import numerical_gradient

matplotlib.use("Agg")

# Each operation works on Values and on torch tensors alike (tensors have .relu(), .exp(), .log()),
# so one random expression can be evaluated by both engines. Domains are kept valid by construction.
UNARY = [
    lambda a: a.relu(),
    lambda a: (a * 0.5).exp(),
    lambda a: (a * a + 1).log(),
    lambda a: a ** 2,
    lambda a: a ** 3,
    lambda a: (a * a + 1) ** 0.5,
    lambda a: (a * a + 1) ** -1.5,
    lambda a: -a,
    lambda a: 2.0 - a,
    lambda a: 3.0 / (a * a + 1),
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a * b,
    lambda a, b: a - b,
    lambda a, b: a / (b * b + 1),
    lambda a, b: 0.5 * a + b * 2,
]


def random_expression(rng, n_leaves, n_ops):
    """A recipe: a list of (op, operand indices) over a growing pool of nodes; nodes are reused."""
    recipe = []
    for k in range(n_ops):
        size = n_leaves + k
        if rng.random() < 0.5:
            recipe.append((UNARY[rng.integers(len(UNARY))], (int(rng.integers(size)),)))
        else:
            recipe.append((BINARY[rng.integers(len(BINARY))], tuple(int(i) for i in rng.integers(size, size=2))))
    return recipe


def evaluate(recipe, leaves):
    pool = list(leaves)
    for op, args in recipe:
        pool.append(op(*[pool[i] for i in args]))
    out = pool[len(leaves)]
    for node in pool[len(leaves) + 1:]:                    # every node contributes to the output
        out = out + node * 0.1
    return out


@pytest.mark.parametrize("seed", range(25))
def test_random_expressions_match_torch_autograd_and_finite_differences(seed):
    rng = np.random.default_rng(seed)
    n_leaves = int(rng.integers(1, 5))
    recipe = random_expression(rng, n_leaves, int(rng.integers(1, 15)))
    x = rng.uniform(-1.5, 1.5, size=n_leaves)
    leaves = [Value(v) for v in x]
    out = evaluate(recipe, leaves)
    out.backward()
    xt = torch.tensor(x, requires_grad=True)
    out_t = evaluate(recipe, list(xt))
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-12)
    grads = np.array([leaf.grad for leaf in leaves])
    np.testing.assert_allclose(grads, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    fd = numerical_gradient(lambda z: evaluate(recipe, [Value(v) for v in z]).data, x, h=1e-6)
    np.testing.assert_allclose(grads, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", UNARY + [lambda a: a + a, lambda a: a * a, lambda a: a / a, lambda a: a - a])
def test_every_operation_alone(op):
    for x in (-1.3, -0.2, 0.7, 2.1):
        v, t = Value(x), torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out, out_t = op(v), op(t)
        out.backward()
        out_t.backward()
        assert out.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-15)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-15)


def test_by_hand_and_gradients_accumulate():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a                         # c = ab + a: dc/da = b + 1 = -2, dc/db = a = 2
    c.backward()
    assert (c.data, a.grad, b.grad) == (-4.0, -2.0, 2.0)
    x = Value(3.0)
    y = x * x * x                         # x used three times: dy/dx = 3x^2 = 27
    y.backward()
    assert x.grad == 27.0
    for node in y.topological_order():    # every node accumulates: zero them all before calling again
        node.grad = 0.0
    y.backward()
    assert x.grad == 27.0


def test_relu_and_constants():
    for x, grad in [(-1.0, 0.0), (0.0, 0.0), (2.0, 1.0)]:     # relu'(0) = 0, as in torch
        v = Value(x)
        v.relu().backward()
        assert v.grad == grad
    v = Value(4.0)
    (1 / v + 2 - v * 3).backward()        # -1/16 - 3
    assert v.grad == pytest.approx(-1 / 16 - 3)
    with pytest.raises(TypeError, match="constant exponents"):
        Value(2.0) ** Value(3.0)


def test_topological_order_and_a_deep_graph():
    x = Value(1.0)
    out = x
    for _ in range(20000):                # far deeper than Python's recursion limit
        out = out * 1.0001 + 0.0
    out.backward()
    assert x.grad == pytest.approx(1.0001 ** 20000, rel=1e-9)
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = e.topological_order()
    position = {id(v): i for i, v in enumerate(order)}
    assert len(order) == 5 and order[-1] is e
    for v in order:
        assert all(position[id(child)] < position[id(v)] for child in v._prev)


def test_draw_graph_draws_every_value_and_operation():
    import matplotlib.pyplot as plt

    x1, x2 = Value(2.0, label="x1"), Value(2.5, label="x2")
    w = Value(-1.0, label="w")
    out = (x1 * w + x2).relu()
    out.backward()
    fig, ax = plt.subplots()
    draw_graph(out, ax=ax)
    texts = [t.get_text() for t in ax.texts if t.get_text()]      # arrows are empty annotations
    n_values = len(out.topological_order())
    n_ops = sum(1 for v in out.topological_order() if v._op)
    assert len(texts) == n_values + n_ops == 6 + 3
    assert any(t.startswith("x1 | 2") and "grad -1" in t for t in texts)   # d out/d x1 = w = -1 (relu active)
    assert {"*", "+", "relu"} <= set(texts)
    plt.close(fig)
    assert math.isclose(w.grad, 2.0)

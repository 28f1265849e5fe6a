"""Two-dimensional loss surfaces on which an optimizer's path can be watched, and `trajectory`,
which runs any optimizer of nnlearn.optimizers on one of them.

Points have shape (..., 2). Each surface has a value, a gradient and a Hessian (tested against
finite differences and torch.autograd):
- "ravine": the elongated bowl (x^2 + 25 y^2) / 2 (condition number 25, chapter 3's bowl);
- "rosenbrock": (1 - x)^2 + 100 (y - x^2)^2, a curved valley with its minimum at (1, 1);
- "saddle": x^2 / 2 + y^4 / 4 - y^2 / 2, minima at (0, +-1) and a saddle point at (0, 0);
- "plateau": 1 - exp(-(x^2 + 4 y^2) / 8) (Gaussian well): almost flat far from its minimum.
"""
from dataclasses import dataclass

import numpy as np

from .validate import check_array, check_choice, check_number, check_rng


def _xy(v):
    v = check_array("v", v, finite=False)
    if v.ndim == 0 or v.shape[-1] != 2:
        raise ValueError(f"expected v of shape (..., 2), points (x, y), got shape {v.shape}")
    return v[..., 0], v[..., 1]


def _ravine(x, y):
    return (x ** 2 + 25 * y ** 2) / 2, (x, 25 * y), ((1 + 0 * x, 0 * x), (0 * x, 25 + 0 * x))


def _rosenbrock(x, y):
    r = y - x ** 2
    return ((1 - x) ** 2 + 100 * r ** 2, (-2 * (1 - x) - 400 * x * r, 200 * r),
            ((2 - 400 * r + 800 * x ** 2, -400 * x), (-400 * x, 200 + 0 * x)))


def _saddle(x, y):
    return (x ** 2 / 2 + y ** 4 / 4 - y ** 2 / 2, (x, y ** 3 - y),
            ((1 + 0 * x, 0 * x), (0 * x, 3 * y ** 2 - 1)))


def _plateau(x, y):
    e = np.exp(-(x ** 2 + 4 * y ** 2) / 8)
    gx, gy = x / 4 * e, y * e
    return 1 - e, (gx, gy), ((e / 4 - x * gx / 4, -x * gy / 4), (-y * gx, e - y * gy))


@dataclass(frozen=True)
class Surface:
    name: str
    start: tuple                                            # a start point that shows the difficulty
    minimum: tuple
    extent: tuple                                           # (x_min, x_max, y_min, y_max) for plots

    def _parts(self, v):
        return _FUNCTIONS[self.name](*_xy(v))

    def __call__(self, v):
        return self._parts(v)[0]

    def grad(self, v):
        return np.stack(self._parts(v)[1], axis=-1)

    def hessian(self, v):
        rows = self._parts(v)[2]
        return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


_FUNCTIONS = {"ravine": _ravine, "rosenbrock": _rosenbrock, "saddle": _saddle, "plateau": _plateau}
SURFACES = {
    "ravine": Surface("ravine", (-4.0, 1.0), (0.0, 0.0), (-5.0, 5.0, -2.0, 2.0)),
    "rosenbrock": Surface("rosenbrock", (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0)),
    "saddle": Surface("saddle", (-2.0, 1e-3), (0.0, 1.0), (-2.5, 2.5, -1.8, 1.8)),
    "plateau": Surface("plateau", (7.0, 3.0), (0.0, 0.0), (-8.0, 8.0, -4.0, 4.0)),
}


def get_surface(name):
    return SURFACES[check_choice("name", name, SURFACES)]


def trajectory(optimizer, grad, v0, n_steps, noise=0.0, rng=None):
    """The points v_0, ..., v_{n_steps} (shape (n_steps + 1, 2)) that `optimizer` visits when every
    step gets grad(v) (plus Gaussian noise of standard deviation `noise` per component, drawn with
    `rng`: a stand-in for mini-batch noise)."""
    if not hasattr(optimizer, "step"):
        raise TypeError(f"expected optimizer to be an nnlearn.optimizers optimizer, got {type(optimizer).__name__}")
    if not callable(grad):
        raise TypeError(f"expected grad to be a function v -> gradient, got {type(grad).__name__}")
    v = check_array("v0", v0, shape=(2,)).astype(np.float64).copy()
    n_steps, noise = check_number("n_steps", n_steps, low=0, integer=True), check_number("noise", noise, low=0)
    if noise:
        rng = check_rng("rng", rng)
    points = [v.copy()]
    for _ in range(n_steps):
        g = np.asarray(grad(v), dtype=np.float64)
        if noise:
            g = g + noise * rng.standard_normal(2)
        optimizer.step([v], [g])
        points.append(v.copy())
    return np.stack(points)


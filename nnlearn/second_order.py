"""Second-order ideas from scratch: Newton's step, conjugate gradients, the BFGS update of the
inverse-Hessian approximation, the L-BFGS two-loop recursion, and `minimize`, a small
line-search driver for all of them (Nocedal and Wright 2006, chapters 3, 5-7).

Vectors are 1-D float64 arrays. Notation: g = grad f(x), s_k = x_{k+1} - x_k,
y_k = g_{k+1} - g_k; G approximates the *inverse* Hessian, and the secant condition is G y = s.
"""
from dataclasses import dataclass, field

import numpy as np

from .validate import check_array, check_callable, check_choice, check_number, check_positive


def _vector(name, v, n=None):
    return check_array(name, v, shape=("n",) if n is None else (n,)).astype(np.float64)


def newton_step(grad, hessian):
    """-H^{-1} g: the step to the stationary point of the quadratic model f + g.s + s^T H s / 2,
    a minimum, maximum or saddle, whatever the signs of H's eigenvalues."""
    g = _vector("grad", grad)
    H = check_array("hessian", hessian, shape=(len(g), len(g)), match=f"grad of shape {g.shape}")
    return -np.linalg.solve(H, g)


def conjugate_gradient(A, b, x0, n_steps=None):
    """Iterates x_0, ..., x_n of linear conjugate gradients for A x = b (A symmetric positive
    definite), i.e. minimising x^T A x / 2 - b^T x with exact line searches along A-conjugate
    directions; exact in at most n = len(b) steps up to rounding (Hestenes and Stiefel 1952)."""
    b = _vector("b", b)
    A = check_array("A", A, shape=(len(b), len(b)), match=f"b of shape {b.shape}")
    x = _vector("x0", x0, len(b)).copy()
    n_steps = len(b) if n_steps is None else check_number("n_steps", n_steps, low=0, integer=True)
    r = A @ x - b                                          # the gradient
    d, points = -r, [x.copy()]
    for _ in range(n_steps):
        if not np.any(r):
            break
        Ad = A @ d
        alpha = (r @ r) / (d @ Ad)                         # exact line search along d
        x = x + alpha * d
        r_new = r + alpha * Ad
        d = -r_new + (r_new @ r_new) / (r @ r) * d         # keeps d A-conjugate to all earlier ones
        r = r_new
        points.append(x.copy())
    return np.stack(points)


def bfgs_update(G, s, y):
    """G_+ = (I - rho s y^T) G (I - rho y s^T) + rho s s^T with rho = 1 / (y^T s): the BFGS update of
    the inverse-Hessian approximation. G_+ y = s (the secant condition); it stays symmetric positive
    definite when G is and y^T s > 0 (Broyden, Fletcher, Goldfarb, Shanno 1970)."""
    s = _vector("s", s)
    y = _vector("y", y, len(s))
    G = check_array("G", G, shape=(len(s), len(s)), match=f"s of shape {s.shape}")
    ys = check_number("y^T s", float(y @ s), low=0, low_open=True)
    rho, Gy = 1.0 / ys, G @ y                              # multiplied out: O(n^2), not O(n^3)
    return G + (1 + rho * (y @ Gy)) * rho * np.outer(s, s) - rho * (np.outer(s, Gy) + np.outer(Gy, s))


def lbfgs_direction(grad, S, Y):
    """H_k g by the two-loop recursion from the m most recent pairs (rows of S and Y, oldest first),
    with H_0 = gamma I, gamma = s^T y / y^T y of the newest pair: the same as m BFGS updates of H_0,
    oldest first, times g, in O(m n) time and memory (Nocedal 1980). The step is minus this."""
    q = _vector("grad", grad).copy()
    S = check_array("S", S, shape=("m", len(q)), match=f"grad of shape {q.shape}", nonempty=False)
    Y = check_array("Y", Y, shape=(len(S), len(q)), match=f"S of shape {S.shape}", nonempty=False)
    rhos = 1.0 / np.einsum("ij,ij->i", Y, S)
    alphas = np.empty(len(S))
    for i in reversed(range(len(S))):                      # newest to oldest
        alphas[i] = rhos[i] * (S[i] @ q)
        q -= alphas[i] * Y[i]
    r = q * ((S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) if len(S) else 1.0)
    for i in range(len(S)):                                # oldest to newest
        r += S[i] * (alphas[i] - rhos[i] * (Y[i] @ r))
    return r


@dataclass
class Result:
    x: np.ndarray
    f: float
    n_iter: int
    n_fev: int                                             # evaluations of (f, grad)
    losses: list = field(default_factory=list)


def minimize(fun, x0, method="bfgs", max_iter=200, tol=1e-6, memory=10, lr=1.0):
    """Minimise f from x0; fun(x) returns (f(x), grad f(x)). Methods: "gd" (steepest descent),
    "cg" (Polak-Ribiere+ nonlinear conjugate gradients), "bfgs", "lbfgs" (with `memory` pairs),
    each with a backtracking (Armijo) line search from step `lr`; stops when ||grad|| < tol.
    A pair with y^T s <= 0 is skipped, so the quasi-Newton matrices stay positive definite."""
    check_callable("fun", fun)
    method = check_choice("method", method, ("gd", "cg", "bfgs", "lbfgs"))
    max_iter, memory = check_positive("max_iter", max_iter, integer=True), check_positive("memory", memory, integer=True)
    tol, lr = check_number("tol", tol, low=0), check_positive("lr", lr)
    x = _vector("x0", x0).copy()
    f, g = fun(x)
    n_fev, losses, G, S, Y, d = 1, [float(f)], np.eye(len(x)), [], [], None
    for it in range(max_iter):
        if np.linalg.norm(g) < tol:
            break
        if method == "gd":
            d = -g
        elif method == "cg":
            d = -g if d is None else -g + max(0.0, g @ (g - g_old) / (g_old @ g_old)) * d
            if g @ d >= 0:                                 # not downhill: restart
                d = -g
        else:
            d = -(G @ g) if method == "bfgs" else -lbfgs_direction(g, np.array(S).reshape(-1, len(x)),
                                                                    np.array(Y).reshape(-1, len(x)))
        t = lr
        while True:                                        # Armijo: f(x + t d) <= f + 1e-4 t g.d
            f_new, g_new = fun(x + t * d)
            n_fev += 1
            if f_new <= f + 1e-4 * t * (g @ d) or t < 1e-12:
                break
            t *= 0.5
        s, y = t * d, g_new - g
        if method in ("bfgs", "lbfgs") and y @ s > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            if method == "bfgs":
                if not S:                                  # scale G_0 once (Nocedal and Wright eq. 6.20)
                    G = (y @ s) / (y @ y) * np.eye(len(x))
                G = bfgs_update(G, s, y)
            S, Y = (S + [s])[-memory:], (Y + [y])[-memory:]
        x, f, g_old, g = x + s, f_new, g, g_new
        losses.append(float(f))
    else:
        it = max_iter
    return Result(x, float(f), it, n_fev, losses)

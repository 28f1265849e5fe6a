"""Chapter 7: every optimizer against torch.optim step for step, schedules against
lr_scheduler, clipping against torch.nn.utils, Polyak averaging against swa_utils, the
surfaces against finite differences and autograd, second-order methods against numpy/scipy."""
import math

import numpy as np
import pytest
import scipy.optimize
import torch

from nnlearn import optimizers as O
from nnlearn import schedules
from nnlearn.checks import numerical_gradient
from nnlearn.optim import exponential_decay, inverse_decay
from nnlearn.race import race, step_for_step, train_mlp
from nnlearn.second_order import bfgs_update, conjugate_gradient, lbfgs_direction, minimize, newton_step
from nnlearn.stabilizers import (ParameterAverage, clip_by_global_norm, clip_by_value, global_norm,
                                 polyak_averages)
from nnlearn.surfaces import SURFACES, get_surface, trajectory

T = torch.optim
CASES = {   # ours, torch's: the same hyperparameters, including the non-default ones
    "SGD": (lambda: O.SGD(0.1), lambda p: T.SGD(p, lr=0.1)),
    "SGD momentum + L2": (lambda: O.SGD(0.1, momentum=0.9, weight_decay=0.01),
                          lambda p: T.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    "SGD dampening": (lambda: O.SGD(0.1, momentum=0.8, dampening=0.3),
                      lambda p: T.SGD(p, lr=0.1, momentum=0.8, dampening=0.3)),
    "Nesterov": (lambda: O.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                 lambda p: T.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "Adagrad": (lambda: O.Adagrad(0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8),
                lambda p: T.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1,
                                    eps=1e-8)),
    "RMSprop": (lambda: O.RMSprop(0.01, alpha=0.9), lambda p: T.RMSprop(p, lr=0.01, alpha=0.9)),
    "RMSprop centered momentum": (lambda: O.RMSprop(0.01, momentum=0.5, centered=True, weight_decay=0.1),
                                  lambda p: T.RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    "Adadelta": (lambda: O.Adadelta(0.5, rho=0.8, eps=1e-5, weight_decay=0.01),
                 lambda p: T.Adadelta(p, lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01)),
    "Adam + L2": (lambda: O.Adam(0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
                  lambda p: T.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "AdamW": (lambda: O.AdamW(0.01, weight_decay=0.1), lambda p: T.AdamW(p, lr=0.01, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", CASES)
def test_optimizer_matches_torch_step_for_step(name):
    ours, theirs = CASES[name]
    diffs = step_for_step(ours(), theirs, [5, 4, 3], 40, np.random.default_rng(1))
    assert diffs.max() < 1e-12
    assert np.all(np.isfinite(diffs))


def test_the_check_can_fail():
    """A wrong hyperparameter, a missing bias correction or L2 instead of decoupled decay shows."""
    rng = lambda: np.random.default_rng(1)
    assert step_for_step(O.SGD(0.1, momentum=0.9), lambda p: T.SGD(p, lr=0.1, momentum=0.8), [5, 4, 3], 5, rng()).max() > 1e-4
    assert step_for_step(O.Adam(0.01, weight_decay=0.5), lambda p: T.AdamW(p, lr=0.01, weight_decay=0.5),
                         [5, 4, 3], 5, rng()).max() > 1e-6

    class NoBiasCorrection(O.Adam):
        def _update(self, p, g, state, lr):
            (b1, b2) = self.betas
            state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
            state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
            p -= lr * state["m"] / (np.sqrt(state["v"]) + self.eps)
    assert step_for_step(NoBiasCorrection(0.01), lambda p: T.Adam(p, lr=0.01), [5, 4, 3], 5, rng()).max() > 1e-4


def test_clipping_inside_the_step_for_step_check():
    diffs = step_for_step(O.SGD(0.5, momentum=0.9), lambda p: T.SGD(p, lr=0.5, momentum=0.9), [5, 4, 3], 20,
                          np.random.default_rng(2), max_norm=0.05)
    assert diffs.max() < 1e-12


def test_a_schedule_as_lr_matches_a_torch_scheduler():
    rng, p0 = np.random.default_rng(3), np.random.default_rng(3).standard_normal(4)
    ours, param = O.Adam(schedules.cosine_decay(0.1, 20, 0.01)), torch.tensor(p0, requires_grad=True)
    opt = T.Adam([param], lr=0.1)
    sched = T.lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.01)
    p = p0.copy()
    for _ in range(25):
        g = rng.standard_normal(4)
        ours.step([p], [g])
        param.grad = torch.tensor(g)
        opt.step()
        sched.step()
    np.testing.assert_allclose(p, param.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_float32_stays_float32_and_state_is_per_array():
    W, b = np.ones((3, 2), np.float32), np.zeros(3, np.float32)
    opt = O.Adam(0.1)
    opt.step([W, b], [np.full((3, 2), 0.5), np.ones(3)])
    assert W.dtype == np.float32 and b.dtype == np.float32
    np.testing.assert_allclose(W, 0.9, rtol=1e-6)          # Adam's first step is lr sign(g)
    np.testing.assert_allclose(b, -0.1, rtol=1e-6)
    with pytest.raises(ValueError, match="grads\\[1\\] of shape \\(3,\\)"):
        opt.step([W, b], [W, np.ones(2)])
    with pytest.raises(ValueError, match="params to hold the 2 arrays of the first step"):
        opt.step([W], [W])
    with pytest.raises(TypeError, match="params\\[0\\]"):
        O.SGD(0.1).step([[1.0, 2.0]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match="nesterov|Nesterov"):
        O.SGD(0.1, nesterov=True)


# --- textbook forms versus PyTorch's -------------------------------------------------------

def _quadratic(rng, d=4):
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return Q @ np.diag(rng.uniform(0.5, 5, d)) @ Q.T


def test_heavy_ball_is_torch_momentum_reparametrised_for_a_constant_lr_only():
    rng = np.random.default_rng(4)
    H, w0 = _quadratic(rng), rng.standard_normal(4)
    for lr, same in ((0.05, True), (schedules.step_decay(0.05, 5, 0.5), False)):
        a, b = w0.copy(), w0.copy()
        hb, sgd = O.HeavyBall(lr, 0.9), O.SGD(lr, momentum=0.9)
        for _ in range(20):
            hb.step([a], [H @ a])
            sgd.step([b], [H @ b])
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14) == same


def test_best_heavy_ball_contracts_by_sqrt_kappa_rate():
    """On the bowl with curvatures 1 and kappa, lr = 4 / (1 + sqrt(kappa))^2 and momentum
    ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2 give the rate (sqrt(kappa) - 1) / (sqrt(kappa) + 1) per step
    (both modes critically damped: |w_k| ~ k r^k), against (kappa - 1) / (kappa + 1) for the best GD."""
    for kappa in (25.0, 100.0):
        grad = lambda v: v * np.array([1.0, kappa])
        r = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
        path = trajectory(O.SGD(4 / (1 + np.sqrt(kappa)) ** 2, momentum=r ** 2), grad, [1.0, 1.0], 400)
        norms = np.linalg.norm(path, axis=1)
        measured = (norms[400] / norms[200] * 200 / 400) ** (1 / 200)     # divide out the factor k
        assert measured == pytest.approx(r, rel=2e-3)
        gd = trajectory(O.SGD(2 / (1 + kappa)), grad, [1.0, 1.0], 400)
        assert np.linalg.norm(gd[400]) / np.linalg.norm(gd[200]) == pytest.approx(((kappa - 1) / (kappa + 1)) ** 200,
                                                                                    rel=1e-6)


def test_torch_nesterov_iterates_are_sutskevers_look_ahead_points():
    """v <- mu v - lr grad(w + mu v), w <- w + v (Sutskever et al. 2013): theta = w + mu v follows
    torch's Nesterov SGD exactly."""
    rng = np.random.default_rng(5)
    H, w0, mu, lr = _quadratic(rng), rng.standard_normal(4), 0.9, 0.05
    w, v, theta, opt = w0.copy(), np.zeros(4), w0.copy(), O.SGD(lr, momentum=mu, nesterov=True)
    for _ in range(30):
        v = mu * v - lr * H @ (w + mu * v)
        w = w + v
        opt.step([theta], [H @ theta])
        np.testing.assert_allclose(theta, w + mu * v, rtol=1e-10, atol=1e-13)
    assert not np.allclose(theta, w)                         # the iterates themselves differ


def test_adam_efficient_form_needs_a_rescaled_eps():
    """Kingma and Ba's lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), p -= lr_t m / (sqrt(v) + eps_hat) equals
    torch's Adam when eps_hat = eps sqrt(1 - b2^t), and differs with eps_hat = eps."""
    rng = np.random.default_rng(6)
    lr, (b1, b2), eps = 0.01, (0.9, 0.999), 1e-3
    for rescale, same in ((True, True), (False, False)):
        p, q, m, v, opt = np.ones(3), np.ones(3), 0.0, 0.0, O.Adam(lr, eps=eps)
        for t in range(1, 20):
            g = rng.standard_normal(3) * 1e-3
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            eps_hat = eps * math.sqrt(1 - b2 ** t) if rescale else eps
            p = p - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps_hat)
            opt.step([q], [g])
        assert np.allclose(p, q, rtol=1e-12, atol=1e-15) == same


def test_adam_l2_is_not_decoupled_weight_decay():
    """With L2 the decay term is divided by sqrt(v_hat) like the gradient; AdamW shrinks p by 1 - lr wd."""
    rng = np.random.default_rng(7)
    p0, g = rng.standard_normal(5), np.zeros(5)
    a, b = p0.copy(), p0.copy()
    O.AdamW(0.01, weight_decay=0.1).step([a], [g])
    O.Adam(0.01, weight_decay=0.1).step([b], [g])
    np.testing.assert_allclose(a, p0 * (1 - 0.01 * 0.1))
    # the first Adam step is lr g / (|g| + eps), here with g = wd p: about lr sign(p), whatever wd
    np.testing.assert_allclose(b, p0 - 0.01 * 0.1 * p0 / (np.abs(0.1 * p0) + 1e-8), rtol=1e-12)


def test_adagrad_without_initial_accumulator_first_step_is_lr_sign():
    p = np.array([1.0, 2.0])
    O.Adagrad(0.1, eps=0.0).step([p], [np.array([3.0, -0.02])])
    np.testing.assert_allclose(p, [0.9, 2.1])


# --- schedules, clipping, averaging ----------------------------------------------------------

def test_schedules_match_torch_lr_schedulers():
    def torch_lrs(make, n=40):
        opt = T.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
        sched, out = make(opt), []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return np.array(out)
    L = T.lr_scheduler
    pairs = [(schedules.step_decay(0.3, 7, 0.5), lambda o: L.StepLR(o, 7, 0.5)),
             (schedules.cosine_decay(0.3, 25, 0.01), lambda o: L.CosineAnnealingLR(o, 25, 0.01)),
             (schedules.linear_warmup(0.3, 10, 0.1), lambda o: L.LinearLR(o, 0.1, 1.0, 10)),
             (exponential_decay(0.3, 0.1), lambda o: L.ExponentialLR(o, math.exp(-0.1))),
             (inverse_decay(0.3, 0.2), lambda o: L.LambdaLR(o, lambda k: 1 / (1 + 0.2 * k)))]
    for ours, make in pairs:
        np.testing.assert_allclose([ours(k) for k in range(40)], torch_lrs(make), rtol=1e-10)


def test_clipping_matches_torch_and_acts_on_gradients():
    rng = np.random.default_rng(8)
    grads = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(4)]
    for max_norm in (0.5, 1e3):
        tensors = [torch.tensor(g) for g in grads]
        for t in tensors:
            t.grad = t.clone()
        norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
        ours, our_norm = clip_by_global_norm(grads, max_norm)
        assert our_norm == pytest.approx(float(norm), rel=1e-12)
        for a, t in zip(ours, tensors):
            np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-12)
    clipped, _ = clip_by_global_norm(grads, 0.5)
    assert global_norm(clipped) == pytest.approx(0.5, rel=1e-5)
    cos = sum(np.sum(a * b) for a, b in zip(clipped, grads)) / (global_norm(clipped) * global_norm(grads))
    assert cos == pytest.approx(1.0)                          # the direction is kept
    tensors = [torch.tensor(g) for g in grads]
    for t in tensors:
        t.grad = t.clone()
    torch.nn.utils.clip_grad_value_(tensors, 0.7)
    for a, t in zip(clip_by_value(grads, 0.7), tensors):
        np.testing.assert_array_equal(a, t.grad.numpy())
    assert clip_by_global_norm([np.float32([3, 4])], 1.0)[0][0].dtype == np.float32


def test_polyak_averages_match_swa_utils():
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    rng = np.random.default_rng(9)
    W = rng.standard_normal((12, 3))
    for beta in (None, 0.8):
        model = torch.nn.Linear(3, 1, bias=False).double()
        avg = AveragedModel(model, multi_avg_fn=None if beta is None else get_ema_multi_avg_fn(beta))
        ours, running = polyak_averages(W, beta), ParameterAverage(beta)
        for j, w in enumerate(W):
            with torch.no_grad():
                model.weight.copy_(torch.tensor(w[None]))
            avg.update_parameters(model)
            running.update([w.copy()])
            np.testing.assert_allclose(ours[j], avg.module.weight.detach().numpy()[0], rtol=1e-12)
            np.testing.assert_allclose(running.average[0], ours[j], rtol=1e-12)
    np.testing.assert_allclose(polyak_averages(W)[-1], W.mean(axis=0))


def test_polyak_averaging_reduces_the_variance_of_noisy_sgd():
    """SGD with gradient noise on a bowl: the last iterate jitters with variance ~ lr sigma^2 / (2 - lr a)
    per coordinate; the uniform average of the last half has a much smaller spread."""
    bowl, lr, sigma = get_surface("ravine"), 0.02, 2.0
    ends, avgs = [], []
    for seed in range(40):
        path = trajectory(O.SGD(lr), bowl.grad, [0.0, 0.0], 800, noise=sigma, rng=np.random.default_rng(seed))
        ends.append(path[-1])
        avgs.append(path[400:].mean(axis=0))
    var_end, var_avg = np.var(ends, axis=0), np.var(avgs, axis=0)
    assert var_end[0] == pytest.approx(lr * sigma ** 2 / (2 - lr * 1.0), rel=0.5)
    # an AR(1) with rho = 1 - lr a: averaging N iterates divides the variance by about N (1 - rho) / (1 + rho)
    assert var_avg[0] < var_end[0] / 2 and var_avg[1] < var_end[1] / 20


# --- surfaces ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SURFACES)
def test_surface_gradient_and_hessian(name):
    s = get_surface(name)
    rng = np.random.default_rng(10)
    for _ in range(3):
        v = rng.uniform([s.extent[0], s.extent[2]], [s.extent[1], s.extent[3]])
        np.testing.assert_allclose(s.grad(v), numerical_gradient(s, v), rtol=1e-6, atol=1e-8)
        vt = torch.tensor(v, requires_grad=True)
        H = torch.autograd.functional.hessian(lambda u: _torch_surface(name, u), vt)
        np.testing.assert_allclose(s.hessian(v), H.numpy(), rtol=1e-9, atol=1e-12)
    assert np.allclose(s.grad(np.array(s.minimum)), 0)
    assert s(rng.standard_normal((4, 5, 2))).shape == (4, 5)


def _torch_surface(name, u):
    x, y = u[0], u[1]
    return {"ravine": lambda: (x ** 2 + 25 * y ** 2) / 2, "rosenbrock": lambda: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
            "saddle": lambda: x ** 2 / 2 + y ** 4 / 4 - y ** 2 / 2,
            "plateau": lambda: 1 - torch.exp(-(x ** 2 + 4 * y ** 2) / 8)}[name]()


# --- second-order methods ----------------------------------------------------------------------

def test_newton_solves_a_quadratic_in_one_step_and_is_attracted_to_a_saddle():
    rng = np.random.default_rng(11)
    H, c, v = _quadratic(rng), rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_allclose(v + newton_step(H @ v - c, H), np.linalg.solve(H, c), rtol=1e-10)
    s, v = get_surface("saddle"), np.array([1.5, 0.3])         # |y| < 1/sqrt(3): f_yy < 0 there
    for _ in range(8):
        v = v + newton_step(s.grad(v), s.hessian(v))
    np.testing.assert_allclose(v, [0, 0], atol=1e-10)        # the saddle, not a minimum
    gd = trajectory(O.SGD(0.1), s.grad, [1.5, 0.3], 200)[-1]
    np.testing.assert_allclose(gd, [0, 1], atol=1e-6)        # gradient descent walks off it


def test_conjugate_gradient_is_exact_in_n_steps():
    rng = np.random.default_rng(12)
    for d in (2, 5, 9):
        A, b = _quadratic(rng, d), rng.standard_normal(d)
        points = conjugate_gradient(A, b, np.zeros(d))
        assert len(points) == d + 1
        np.testing.assert_allclose(points[-1], np.linalg.solve(A, b), rtol=1e-8, atol=1e-10)
        gd = np.zeros(d)
        for _ in range(d):
            gd = gd - 0.1 * (A @ gd - b)
        assert np.linalg.norm(gd - np.linalg.solve(A, b)) > 1e-3
    steps = np.diff(conjugate_gradient(A, b, np.zeros(9)), axis=0)
    C = steps @ A @ steps.T                                   # the directions are A-conjugate
    np.testing.assert_allclose(C - np.diag(np.diag(C)), 0, atol=1e-8 * np.abs(C).max())


def test_bfgs_update_satisfies_the_secant_condition_and_stays_positive_definite():
    rng = np.random.default_rng(13)
    G = _quadratic(rng, 5)
    for _ in range(10):
        s = rng.standard_normal(5)
        y = _quadratic(rng, 5) @ s                            # a curvature pair: y^T s > 0
        G_new = bfgs_update(G, s, y)
        np.testing.assert_allclose(G_new @ y, s, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(G_new, G_new.T, atol=1e-12)
        assert np.linalg.eigvalsh(G_new).min() > 0
        rho = 1 / (y @ s)                                     # the product form of the page
        V = np.eye(5) - rho * np.outer(y, s)
        np.testing.assert_allclose(G_new, V.T @ G @ V + rho * np.outer(s, s), rtol=1e-9, atol=1e-12)
        G = G_new
    with pytest.raises(ValueError, match="y\\^T s"):
        bfgs_update(G, s, -y)                                 # negative curvature: no positive definite update


def test_bfgs_recovers_the_inverse_hessian_of_a_quadratic():
    """With exact line searches on a quadratic, n BFGS updates give G_n = A^{-1}."""
    rng = np.random.default_rng(14)
    A, b, x, G = _quadratic(rng, 4), rng.standard_normal(4), np.zeros(4), np.eye(4)
    for _ in range(4):
        g = A @ x - b
        d = -G @ g
        s = -(g @ d) / (d @ A @ d) * d
        G, x = bfgs_update(G, s, A @ s), x + s
    np.testing.assert_allclose(G, np.linalg.inv(A), rtol=1e-7, atol=1e-9)


def test_lbfgs_two_loop_equals_the_explicit_bfgs_matrix():
    rng = np.random.default_rng(15)
    for m in (1, 3, 6):
        S, Y, g = rng.standard_normal((m, 7)), [], rng.standard_normal(7)
        A = _quadratic(rng, 7)
        Y = S @ A                                              # y = A s: y^T s > 0
        gamma = S[-1] @ Y[-1] / (Y[-1] @ Y[-1])
        H = gamma * np.eye(7)
        for s, y in zip(S, Y):
            H = bfgs_update(H, s, y)
        np.testing.assert_allclose(lbfgs_direction(g, S, Y), H @ g, rtol=1e-9, atol=1e-12)
        if m > 1:
            assert not np.allclose(lbfgs_direction(g, S[::-1], Y[::-1]), H @ g)
    np.testing.assert_allclose(lbfgs_direction(g, np.zeros((0, 7)), np.zeros((0, 7))), g)


@pytest.mark.parametrize("method, scipy_method", [("bfgs", "BFGS"), ("lbfgs", "L-BFGS-B"), ("cg", "CG")])
def test_minimize_reaches_rosenbrocks_minimum_like_scipy(method, scipy_method):
    s = get_surface("rosenbrock")
    fun = lambda v: (float(s(v)), s.grad(v))
    ours = minimize(fun, [-1.5, 2.0], method, max_iter=5000, tol=1e-6)
    ref = scipy.optimize.minimize(fun, [-1.5, 2.0], jac=True, method=scipy_method)
    np.testing.assert_allclose(ours.x, [1, 1], atol=1e-4)
    np.testing.assert_allclose(ref.x, [1, 1], atol=1e-4)
    assert ours.f < 1e-8 and len(ours.losses) == ours.n_iter + 1 and ours.n_fev >= ours.n_iter
    gd = minimize(fun, [-1.5, 2.0], "gd", max_iter=ours.n_iter, tol=1e-6)
    assert gd.f > 100 * ours.f                                # steepest descent is far behind


def test_torch_lbfgs_agrees_on_the_minimiser():
    s = get_surface("rosenbrock")
    v = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = T.LBFGS([v], lr=1, max_iter=500, tolerance_grad=1e-9, line_search_fn="strong_wolfe")
    def closure():
        opt.zero_grad()
        loss = _torch_surface("rosenbrock", v)
        loss.backward()
        return loss
    opt.step(closure)
    np.testing.assert_allclose(v.detach().numpy(), minimize(lambda u: (float(s(u)), s.grad(u)), [-1.5, 2.0],
                                                            "lbfgs", max_iter=5000).x, atol=1e-4)


# --- the race ------------------------------------------------------------------------------------

def test_train_mlp_learns_and_race_picks_the_best_lr():
    rng = np.random.default_rng(16)
    centers = rng.standard_normal((3, 6)) * 3
    y = rng.integers(0, 3, 300)
    X = centers[y] + rng.standard_normal((300, 6))
    h = train_mlp(X[:200], y[:200], X[200:], y[200:], [6, 8, 3], O.Adam(0.01), epochs=5, batch_size=32,
                  rng=np.random.default_rng(0))
    assert h["val_accuracy"][-1] > 0.9 and h["val_loss"][-1] < h["val_loss"][0]
    bad = train_mlp(X[:200], y[:200], X[200:], y[200:], [6, 8, 3], O.SGD(1e6), epochs=3, batch_size=32,
                    rng=np.random.default_rng(0))
    assert len(bad["val_loss"]) == 3
    result = race(X[:200], y[:200], X[200:], y[200:], [6, 8, 3], {"sgd": (lambda lr: O.SGD(lr), [1e-5, 0.3])},
                  sweep_epochs=2, epochs=2, batch_size=32, seeds=[0, 1], progress=False)
    assert result["sgd"]["lr"] == 0.3 and len(result["sgd"]["runs"]) == 2

"""Regularization (chapter 8): penalties, their gradients and proximal steps, dropout, max-norm,
ridge regression, and convolution written as a dense layer with tied and zeroed weights.

Conventions: a penalty acts on one weight array W of any shape (sum the layers yourself; biases
are usually not penalised). L2: (lam / 2) ||W||^2, gradient lam W. L1: lam ||W||_1, subgradient
lam sign(W) (0 at 0). The proximal step of t ||.||_1 is soft-thresholding. Inverted dropout keeps
a unit with probability 1 - p and scales it by 1 / (1 - p), so E[mask] = 1 and evaluation uses the
layer unchanged. float32 in, float32 out.
"""
import numpy as np

from .validate import check_array, check_dtype, check_number, check_rng, check_same_length, check_type


def _weights(W):
    return check_array("W", W, nonempty=False)


def _strength(name, lam):
    return check_number(name, lam, low=0)


def l2_penalty(W, lam):
    """(lam / 2) * sum of W**2: the weight-decay penalty added to the loss."""
    W, lam = _weights(W), _strength("lam", lam)
    return 0.5 * lam * float(np.sum(W.astype(np.float64) ** 2))


def l2_gradient(W, lam):
    """The gradient lam * W of l2_penalty."""
    W, lam = _weights(W), _strength("lam", lam)
    return (lam * W).astype(W.dtype, copy=False)


def l1_penalty(W, lam):
    """lam * sum of |W|."""
    W, lam = _weights(W), _strength("lam", lam)
    return lam * float(np.sum(np.abs(W.astype(np.float64))))


def l1_subgradient(W, lam):
    """lam * sign(W), taking 0 at W = 0 (the subgradient torch's autograd returns for abs)."""
    W, lam = _weights(W), _strength("lam", lam)
    return (lam * np.sign(W)).astype(W.dtype, copy=False)


def soft_threshold(W, t):
    """The proximal step of t ||W||_1: sign(W) * max(|W| - t, 0). Entries with |W| <= t become exactly 0."""
    W, t = _weights(W), _strength("t", t)
    return (np.sign(W) * np.maximum(np.abs(W) - t, 0)).astype(W.dtype, copy=False)


def sgd_weight_decay_step(W, grad, lr, lam):
    """One SGD step on loss + (lam / 2) ||W||^2: W - lr (grad + lam W) = (1 - lr lam) W - lr grad,
    torch.optim.SGD(..., weight_decay=lam)."""
    W = _weights(W)
    grad = check_array("grad", grad, shape=W.shape, match=f"W of shape {W.shape}", nonempty=False)
    lr, lam = check_number("lr", lr, low=0, low_open=True), _strength("lam", lam)
    return ((1 - lr * lam) * W - lr * grad).astype(W.dtype, copy=False)


def max_norm(W, c):
    """Rescale every row of W (the weights into one unit) whose Euclidean norm exceeds c to norm c."""
    W = check_array("W", W, ndim=2)
    c = check_number("c", c, low=0, low_open=True)
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    return (W * np.minimum(1, c / np.maximum(norms, np.finfo(W.dtype).tiny))).astype(W.dtype, copy=False)


def dropout_mask(shape, p, rng, dtype=np.float64):
    """An inverted-dropout mask: each entry 0 with probability p, else 1 / (1 - p) (E[mask] = 1)."""
    check_type("shape", shape, tuple, "a tuple of ints such as (n, N)")
    p, rng = check_number("p", p, low=0, high=1, high_open=True), check_rng("rng", rng)
    dtype = check_dtype("dtype", dtype)
    keep = rng.random(shape) >= p
    return (keep / (1 - p)).astype(dtype)


def dropout_forward(H, p, rng, train=True):
    """Inverted dropout of activations H: (H * mask, mask) in training, (H, ones) in evaluation."""
    H = check_array("H", H, min_ndim=1)
    check_type("train", train, bool, "True or False")
    if not train:
        check_number("p", p, low=0, high=1, high_open=True)
        return H, np.ones_like(H)
    mask = dropout_mask(H.shape, p, rng, H.dtype)
    return H * mask, mask


def dropout_backward(dOut, mask):
    """dL/dH = dL/dOut * mask: the dropped units pass no gradient, the kept ones are scaled too."""
    dOut = check_array("dOut", dOut, min_ndim=1)
    mask = check_array("mask", mask, shape=dOut.shape, match=f"dOut of shape {dOut.shape}")
    return dOut * mask.astype(dOut.dtype, copy=False)


def ridge_solution(X, y, lam):
    """(w, b) minimising (1 / 2n) ||X w + b - y||^2 + (lam / 2) ||w||^2 (the bias not penalised):
    w = (Xc^T Xc / n + lam I)^-1 Xc^T yc / n with centred Xc, yc, and b = mean(y) - mean(X) w."""
    X = check_array("X", X, ndim=2)
    y = check_array("y", y, ndim=1)
    check_same_length("X", X, "y", y)
    lam = _strength("lam", lam)
    n, d = X.shape
    mx, my = X.mean(axis=0), y.mean()
    Xc, yc = X - mx, y - my
    w = np.linalg.lstsq(Xc.T @ Xc / n + lam * np.eye(d), Xc.T @ yc / n, rcond=None)[0]
    return w, float(my - mx @ w)


def conv2d_as_matrix(kernel, height, width):
    """The matrix M with M @ image.ravel() = the 'valid' cross-correlation of the image with `kernel`
    (torch's conv2d), raveled: one row per output pixel, the same kh*kw weights in every row (tied),
    zeros elsewhere. Shape ((height - kh + 1) * (width - kw + 1), height * width)."""
    kernel = check_array("kernel", kernel, ndim=2)
    kh, kw = kernel.shape
    height = check_number("height", height, low=kh, integer=True)
    width = check_number("width", width, low=kw, integer=True)
    oh, ow = height - kh + 1, width - kw + 1
    M = np.zeros((oh * ow, height * width), dtype=kernel.dtype)
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                M[i * ow + j, (i + u) * width + j: (i + u) * width + j + kw] = kernel[u]
    return M

"""Plot helpers shared by the notebooks. Nothing here runs on import."""
import matplotlib.pyplot as plt
import numpy as np

from .validate import (check_array, check_callable, check_number, check_positive, check_same_length, check_type,
                       describe)


def _axes(name, ax):
    if not hasattr(ax, "imshow"):
        raise TypeError(f"expected {name} to be a matplotlib Axes, got {describe(ax)}")
    return ax


def _title(title):
    return title if title is None else check_type("title", title, str, "a string or None")


def use_course_style():
    """Readable defaults for the course's figures (an explicit call, never on import)."""
    plt.rcParams.update({"figure.figsize": (6, 4), "figure.dpi": 100, "axes.grid": True,
                         "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
                         "font.size": 11})


def plot_decision_regions(ax, predict, X, y, resolution=200, padding=0.5, title=None):
    """Shade the plane by `predict` (maps an (n, 2) array to labels) and scatter the labelled points."""
    _axes("ax", ax), check_callable("predict", predict), _title(title)
    X, y = check_array("X", X, shape=("n", 2)), check_array("y", y, ndim=1, kind="number")
    check_same_length("X", X, "y", y)
    resolution = check_number("resolution", resolution, low=2, integer=True)
    padding = check_number("padding", padding, low=0)
    x_min, y_min = X.min(axis=0) - padding
    x_max, y_max = X.max(axis=0) + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    zz = np.asarray(predict(np.c_[xx.ravel(), yy.ravel()]))
    if zz.size != xx.size:
        raise ValueError(f"expected predict to return one label per row of its ({xx.size}, 2) input, "
                         f"got shape {zz.shape}")
    zz = zz.reshape(xx.shape)
    ax.contourf(xx, yy, zz, alpha=0.25, cmap="coolwarm")
    for label, marker in zip(np.unique(y), "os^vD"):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, edgecolor="k", label=f"class {label}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return ax


def plot_confusion_matrix(ax, C, title=None, labels=None):
    """Draw confusion matrix C (rows: true class, columns: predicted class) with its counts."""
    _axes("ax", ax), _title(title)
    C = check_array("C", C, shape=("n_classes", "n_classes"), kind="number")
    if C.shape[0] != C.shape[1] or C.min() < 0:
        raise ValueError(f"expected C to be a square matrix of counts >= 0, got shape {C.shape} and minimum {C.min()}")
    if labels is not None and (isinstance(labels, str) or not hasattr(labels, "__len__")):
        raise TypeError(f"expected labels to be a list of class names or None, got {describe(labels)}")
    labels = list(range(len(C))) if labels is None else list(labels)
    if len(labels) != len(C):
        raise ValueError(f"expected labels to name the {len(C)} classes of C, got {len(labels)} labels")
    im = ax.imshow(C, cmap="Blues")
    for i in range(len(C)):
        for j in range(len(C)):
            if C[i, j]:
                ax.text(j, i, C[i, j], ha="center", va="center", fontsize=8,
                        color="white" if C[i, j] > C.max() / 2 else "k")
    ax.set_xticks(range(len(C)), labels)
    ax.set_yticks(range(len(C)), labels)
    ax.grid(False)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label="number of examples")
    return im


def plot_image_grid(axes, images, titles=None, side=None):
    """Show flattened or 2-D grayscale images, one per axis, with optional titles; unused axes are blanked."""
    axes = [_axes("axes", ax) for ax in np.ravel(axes)]
    images = check_array("images", images, ndim=(2, 3), kind="number", nonempty=False)
    if titles is not None and (isinstance(titles, str) or not hasattr(titles, "__len__")):
        raise TypeError(f"expected titles to be a list of strings or None, got {describe(titles)}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"expected titles to hold one title per image of images ({len(images)}), got {len(titles)}")
    if images.ndim == 2 and images.shape[1]:
        side = int(round(np.sqrt(images.shape[1]))) if side is None else check_positive("side", side, integer=True)
        if images.shape[1] % side:
            raise ValueError(f"expected side to divide the {images.shape[1]} pixels of a flattened image, got {side}")
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < len(images):
            image = images[k] if images.ndim == 3 else images[k].reshape(side, -1)
            ax.imshow(image, cmap="gray_r")
            if titles is not None:
                ax.set_title(titles[k], fontsize=9)
    return axes

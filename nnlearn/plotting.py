"""Plot helpers shared by the notebooks. Nothing here runs on import."""
import matplotlib.pyplot as plt
import numpy as np


def use_course_style():
    """Readable defaults for the course's figures (an explicit call, never on import)."""
    plt.rcParams.update({"figure.figsize": (6, 4), "figure.dpi": 100, "axes.grid": True,
                         "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
                         "font.size": 11})


def plot_decision_regions(ax, predict, X, y, resolution=200, padding=0.5, title=None):
    """Shade the plane by `predict` (maps an (n, 2) array to labels) and scatter the labelled points."""
    X = np.asarray(X)
    x_min, y_min = X.min(axis=0) - padding
    x_max, y_max = X.max(axis=0) + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    zz = np.asarray(predict(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
    ax.contourf(xx, yy, zz, alpha=0.25, cmap="coolwarm")
    for label, marker in zip(np.unique(y), "os^vD"):
        pts = X[np.asarray(y) == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, edgecolor="k", label=f"class {label}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return ax


def plot_confusion_matrix(ax, C, title=None, labels=None):
    """Draw confusion matrix C (rows: true class, columns: predicted class) with its counts."""
    C = np.asarray(C)
    labels = list(range(len(C))) if labels is None else list(labels)
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
    axes = np.ravel(axes)
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < len(images):
            image = np.asarray(images[k])
            if image.ndim == 1:
                image = image.reshape(side or int(round(np.sqrt(image.size))), -1)
            ax.imshow(image, cmap="gray_r")
            if titles is not None:
                ax.set_title(titles[k], fontsize=9)
    return axes

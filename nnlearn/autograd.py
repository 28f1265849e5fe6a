"""A scalar autograd engine, micrograd-sized, and a matplotlib drawing of its graphs.

Every operation on `Value`s returns a new Value that remembers its inputs (`_prev`), the
operation (`_op`) and a closure `_backward` that adds the operation's *local* derivative times
`out.grad` to each input's `grad` — the chain rule, one edge at a time. `backward()` sorts the
graph topologically and runs the closures from the output back to the leaves: reverse mode.
Gradients accumulate (`+=`), so a value used twice receives the sum over both uses.
After A. Karpathy's micrograd (MIT licence).
"""
import math
import numbers

from .validate import check_positive, check_type, describe


def _real(name, x):
    """A real number as a float: TypeError for anything else (arrays, strings, None, bools), ValueError for NaN."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"expected {name} to be a real number, got {describe(x)}")
    x = float(x)
    if x != x:
        raise ValueError(f"expected {name} to be a number, got NaN")
    return x


def _as_value(other):
    return other if isinstance(other, Value) else Value(_real("other", other))


class Value:
    """A scalar `data` with a gradient `grad` = d(output)/d(self), filled in by `backward()`."""

    def __init__(self, data, _prev=(), _op="", label=""):
        self.data = _real("data", data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_prev)
        self._op = _op
        self.label = check_type("label", label, str, "a string")

    def __repr__(self):
        return f"Value({self.label + ': ' if self.label else ''}data={self.data:.4g}, grad={self.grad:.4g})"

    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():                                    # d(a+b)/da = d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():                                    # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            raise TypeError(f"only constant exponents: Value ** number; expected k to be a number, got {describe(k)}")
        k = _real("k", k)
        if (self.data < 0 and not k.is_integer()) or (self.data == 0 and k < 0):
            raise ValueError(f"{self.data} ** {k} is not a real number: expected k to be an integer "
                             f"for a negative base, and k >= 0 for base 0")
        out = Value(self.data ** k, (self,), f"**{k:g}")

        def _backward():                                    # d(a^k)/da = k a^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():                                    # 1 for a > 0, else 0 (torch's choice at 0)
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():                                    # d(e^a)/da = e^a
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got data = {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():                                    # d(ln a)/da = 1/a
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0:
            raise ZeroDivisionError("division by a Value whose data is 0")
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    def topological_order(self):
        """Every node of the graph that ends in self, each after all of its inputs."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:                                        # iterative DFS: deep graphs are fine
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev if id(child) not in seen)
        return order

    def backward(self):
        """Fill in d(self)/d(v) as v.grad for every node v of the graph, by reverse mode.
        Every node accumulates, intermediate ones too: zero all of them (or build a new graph)
        before calling it again."""
        self.grad = 1.0
        for node in reversed(self.topological_order()):
            node._backward()


def draw_graph(root, ax=None, show_grad=True, fontsize=9):
    """Draw the graph that ends in `root` with matplotlib: a box per Value (label, data, grad),
    a circle per operation, arrows in the direction of the forward pass; a column per step of
    the longest path from the leaves. Pass `ax` to draw into a figure of your own (about 1.5
    inches per column). Returns the axes."""
    import matplotlib.pyplot as plt

    check_type("root", root, Value, "a Value (the output of a computation)")
    check_type("show_grad", show_grad, bool, "True or False")
    fontsize = check_positive("fontsize", fontsize)
    if ax is not None and not hasattr(ax, "annotate"):
        raise TypeError(f"expected ax to be a matplotlib Axes or None, got {describe(ax)}")

    nodes = root.topological_order()
    col, users = {}, {}
    for v in nodes:                                         # column of an operation: longest path from a leaf
        col[id(v)] = 1 + max((col[id(c)] for c in v._prev), default=-1)
        for c in v._prev:
            users.setdefault(id(c), []).append(v)
    for v in nodes:                                         # a leaf sits just left of its first user
        if not v._prev and id(v) in users:
            col[id(v)] = min(col[id(u)] for u in users[id(v)]) - 1
    y, columns = {}, {}
    for v in nodes:
        columns.setdefault(col[id(v)], []).append(v)
    for c in sorted(columns):                               # order a column by the heights of the inputs
        def key(i_v):
            i, v = i_v
            near = [y[id(u)] for u in v._prev] or [y[id(s)] for u in users.get(id(v), []) for s in u._prev if id(s) in y]
            return (sum(near) / len(near) if near else 0.0, i)
        ordered = [v for _, v in sorted(enumerate(columns[c]), key=key)]
        for i, v in enumerate(ordered):
            y[id(v)] = i - (len(ordered) - 1) / 2
    height, width = max(len(c) for c in columns.values()), max(columns) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(1.5 * width + 0.6, 0.75 * height + 0.8))
    x = {id(v): 2.4 * col[id(v)] for v in nodes}
    box = dict(boxstyle="round,pad=0.3", fc="#eef3fb", ec="#4c72b0")
    for v in nodes:
        text = (f"{v.label} | " if v.label else "") + f"{v.data:.3g}"
        if show_grad:
            text += f"\ngrad {v.grad:.3g}"
        ax.text(x[id(v)], y[id(v)], text, ha="center", va="center", fontsize=fontsize, bbox=box, zorder=3)
        if v._op:
            ox = x[id(v)] - 1.2
            ax.text(ox, y[id(v)], v._op, ha="center", va="center", fontsize=fontsize, zorder=3,
                    bbox=dict(boxstyle="circle,pad=0.2", fc="#fdf1e6", ec="#dd8452"))
            ax.annotate("", (x[id(v)] - 0.75, y[id(v)]), (ox + 0.3, y[id(v)]),
                        arrowprops=dict(arrowstyle="->", color="0.3"), zorder=2)
            for c in v._prev:
                ax.annotate("", (ox - 0.3, y[id(v)]), (x[id(c)] + 0.75, y[id(c)]),
                            arrowprops=dict(arrowstyle="->", color="0.5", lw=0.8), zorder=1)
    ax.set_xlim(-0.9, 2.4 * max(columns) + 0.9)
    ax.set_ylim(-height / 2, height / 2)
    ax.axis("off")
    return ax

"""Playgrounds that are honest everywhere.

`playground(draw, **controls)` takes the same arguments as `ipywidgets.interact`. It shows one
output that carries two views:
- the live widget: in Jupyter and Colab the kernel redraws the figure when a control moves;
- a static twin for the book: the figures drawn for a grid of control values when the notebook
  is executed, swapped by a native slider or menu and a few lines of JavaScript (no kernel,
  no server, no network). The book picks this view.
In Colab only the live widget is shown and no frames are drawn.

    playground(tangent_playground, activation=Dropdown(options=["sigmoid", "tanh"]),
               v0=FloatSlider(value=1.0, min=-3.5, max=3.5, step=0.05),
               frames={"v0": np.arange(-3.5, 3.6, 0.5)}, fmt="svg")
"""
import base64
import html
import io
import itertools
import json
import math
from urllib.parse import quote

import numpy as np

from .runtime import in_colab
from .validate import check_callable, check_choice, check_positive, check_type, describe

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_FRAMES = 160

_SCRIPT = """(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script.nnlearn-playground-data").textContent);
  var img = root.querySelector("img");
  function show() {
    var index = 0;
    data.sizes.forEach(function (size, i) {
      var c = root.querySelector('[data-control="' + i + '"]'), k = c ? Number(c.value) : 0;
      var out = root.querySelector('output[data-for="' + i + '"]');
      index = index * size + k;
      if (out) out.textContent = data.labels[i][k];
    });
    img.src = data.images[data.frames[index]];
  }
  root.querySelectorAll("[data-control]").forEach(function (c) {
    c.addEventListener("input", show);
    c.addEventListener("change", show);
  });
  show();
})();"""


def _format(widget, value):
    fmt = getattr(widget, "readout_format", None)
    try:
        return format(value, fmt) if fmt else str(value)
    except (TypeError, ValueError):
        return str(value)


def _closest(values, value):
    """Index of value in values, or of the nearest number."""
    if value in values:
        return values.index(value)
    try:
        return int(np.argmin([abs(v - value) for v in values]))
    except TypeError:
        return 0


def control_grid(widget, count=None):
    """(labels, values, default index) of one control on the static page.

    A menu keeps every option; a slider keeps `count` positions from min to max on its step
    (all of them when count is None), always including its current value."""
    if not hasattr(widget, "value"):
        raise TypeError(f"expected widget to be an ipywidgets control, got {describe(widget)}")
    if count is not None:
        check_positive("count", count, integer=True)
    if hasattr(widget, "_options_full"):                       # Dropdown, RadioButtons, ...
        labels = [str(label) for label, _ in widget._options_full]
        values = [value for _, value in widget._options_full]
        return labels, values, widget.index or 0
    if not hasattr(widget, "min"):                             # fixed(...) or a Checkbox
        values = [False, True] if isinstance(widget.value, bool) else [widget.value]
        return [str(v) for v in values], values, values.index(widget.value)
    log_base = getattr(widget, "base", None)                   # FloatLogSlider: min/max are exponents
    lo, hi, step = widget.min, widget.max, widget.step
    current = math.log(widget.value, log_base) if log_base else widget.value
    positions = np.arange(round((hi - lo) / step) + 1)
    if count is not None and count < len(positions):
        positions = np.unique(np.round(np.linspace(0, positions[-1], count)))
    points = sorted(set(np.round(lo + positions * step, 10)) | {round(current, 10)})
    values = [log_base ** p for p in points] if log_base else points
    if isinstance(widget.value, int):
        values = [int(round(v)) for v in values]
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    return [_format(widget, v) for v in values], values, _closest(points, round(current, 10))


def _slider_counts(widgets, frames, max_frames):
    """Positions per slider so that the product of all grid sizes stays within max_frames."""
    fixed = [len(frames[w._kwarg]) if w._kwarg in frames else len(control_grid(w)[1])
             for w in widgets if w._kwarg in frames or not hasattr(w, "min")]
    sliders = [w for w in widgets if w._kwarg not in frames and hasattr(w, "min")]
    room = max_frames / max(1, math.prod(fixed))
    each = max(2, int(room ** (1 / len(sliders)))) if sliders else None
    return {w._kwarg: each for w in sliders}


def _render(draw, kwargs, fmt, dpi):
    """draw(**kwargs) with plt.show() and any display silenced; its last new figure as a data URI."""
    import matplotlib.pyplot as plt
    before, show = set(plt.get_fignums()), plt.show
    plt.show = lambda *args, **kw: None
    try:
        try:
            from IPython.utils.capture import capture_output
        except ImportError:
            draw(**kwargs)
        else:
            with capture_output():
                draw(**kwargs)
    finally:
        plt.show = show
    new = [n for n in plt.get_fignums() if n not in before]
    if not new:
        raise ValueError(f"playground: {getattr(draw, '__name__', 'draw')}(**{kwargs}) drew no matplotlib figure")
    figure = plt.figure(new[-1])
    buffer = io.BytesIO()
    if fmt == "svg":   # deterministic ids, no date; percent-encoded text compresses well (base64 does not)
        with plt.rc_context({"svg.hashsalt": "nnlearn-playground"}):
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        uri = "data:image/svg+xml;charset=utf-8," + quote(buffer.getvalue().decode("utf-8"), safe="/:=;,.-_()'")
    else:
        figure.savefig(buffer, format=fmt, dpi=dpi)
        uri = f"data:image/{fmt};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
    for n in new:
        plt.close(n)
    return uri


def static_html(draw, widgets, frames=None, max_frames=MAX_FRAMES, fmt="png", dpi=80):
    """The static twin: every frame drawn now, and HTML controls that swap them in the browser.
    `widgets` are the controls of an `ipywidgets.interactive` (each with its `_kwarg` name);
    `frames` maps a control's name to the exact values to precompute for it."""
    _check_options(draw, frames, max_frames, fmt, dpi)
    if isinstance(widgets, str) or not hasattr(widgets, "__iter__") or not all(hasattr(w, "_kwarg") for w in widgets):
        raise TypeError(f"expected widgets to be the controls of an ipywidgets.interactive, got {describe(widgets)}")
    frames = {name: list(values) for name, values in (frames or {}).items()}
    unknown = set(frames) - {w._kwarg for w in widgets}
    if unknown:
        raise ValueError(f"playground: frames names {sorted(unknown)}, which are not controls; "
                         f"the controls are {[w._kwarg for w in widgets]}")
    counts = _slider_counts(widgets, frames, max_frames)
    grids = []
    for w in widgets:
        if w._kwarg in frames:
            values = frames[w._kwarg]
            labels = [_format(w, v) for v in values]
            grids.append((labels, values, _closest(values, w.value)))
        else:
            grids.append(control_grid(w, counts.get(w._kwarg)))
    total = math.prod(len(values) for _, values, _ in grids)
    if total > max_frames:
        sizes = {w._kwarg: len(values) for w, (_, values, _) in zip(widgets, grids)}
        raise ValueError(f"playground: {total} frames (grid sizes {sizes}) exceed max_frames={max_frames}; "
                         "pass coarser `frames` or fewer controls, or raise max_frames")
    images, index, frame_of = [], {}, []
    for combo in itertools.product(*(values for _, values, _ in grids)):
        uri = _render(draw, {w._kwarg: v for w, v in zip(widgets, combo)}, fmt, dpi)
        frame_of.append(index.setdefault(uri, len(index)))
        if frame_of[-1] == len(images):
            images.append(uri)
    data = {"sizes": [len(values) for _, values, _ in grids], "labels": [labels for labels, _, _ in grids],
            "frames": frame_of, "images": images}
    rows = [_control_html(i, w, labels, default) for i, (w, (labels, _, default)) in enumerate(zip(widgets, grids))]
    note = (f"Precomputed: {total} settings drawn when this page was built. Open the notebook in "
            "Jupyter or Colab (launch button at the top) to try any value live.")
    payload = json.dumps(data).replace("</", "<\\/")
    return (f'<div class="nnlearn-playground">\n<div class="nnlearn-playground-controls">{"".join(rows)}</div>\n'
            f'<img alt="{html.escape(getattr(draw, "__name__", "playground"))} figure" '
            f'style="max-width:100%;height:auto" src="{images[0]}">\n'
            f'<p class="nnlearn-playground-note"><small>{note}</small></p>\n'
            f'<script type="application/json" class="nnlearn-playground-data">{payload}</script>\n'
            f'<script>{_SCRIPT}</script>\n</div>')


def _check_options(draw, frames, max_frames, fmt, dpi):
    check_callable("draw", draw)
    if frames is not None:
        check_type("frames", frames, dict, "a dict {control name: values} or None")
    check_positive("max_frames", max_frames, integer=True)
    check_choice("fmt", fmt, ("png", "svg"))
    check_positive("dpi", dpi)


def _control_html(i, widget, labels, default):
    name = html.escape(getattr(widget, "description", "") or widget._kwarg)
    if len(labels) == 1:
        return f'<span class="nnlearn-playground-fixed">{name} = {html.escape(labels[0])}</span> '
    if hasattr(widget, "min"):
        return (f'<label style="margin-right:1em">{name} <input type="range" data-control="{i}" min="0" '
                f'max="{len(labels) - 1}" step="1" value="{default}" aria-label="{name}"> '
                f'<output data-for="{i}">{html.escape(labels[default])}</output></label> ')
    options = "".join(f'<option value="{k}"{" selected" if k == default else ""}>{html.escape(label)}</option>'
                      for k, label in enumerate(labels))
    return f'<label style="margin-right:1em">{name} <select data-control="{i}">{options}</select></label> '


def playground(draw, *, frames=None, max_frames=MAX_FRAMES, fmt="png", dpi=80, **controls):
    """`ipywidgets.interact(draw, **controls)` that also works on the static book (module doc).

    frames: {control name: values to precompute}; sliders not named get evenly spaced values so
    that all grids together make at most about max_frames figures. fmt: "png", or "svg" for
    line plots (small once compressed). Returns the live `ipywidgets.interactive`."""
    from IPython.display import display
    from ipywidgets import interactive

    _check_options(draw, frames, max_frames, fmt, dpi)
    live = interactive(draw, **controls)
    if in_colab():
        display(live)
        return live
    page = static_html(draw, live.kwargs_widgets, frames, max_frames, fmt, dpi)
    names = ", ".join(w._kwarg for w in live.kwargs_widgets)
    display({WIDGET_VIEW: {"model_id": live.model_id, "version_major": 2, "version_minor": 0},
             "text/html": page, "text/plain": f"playground {getattr(draw, '__name__', '')}({names})"}, raw=True)
    return live

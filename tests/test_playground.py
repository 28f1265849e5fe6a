"""nnlearn.playground: the static twin of a playground has one distinct frame per setting, the
frames decode and differ, the page needs no network, and the live widget stays in the bundle."""
import base64
import json
import re
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ipywidgets = pytest.importorskip("ipywidgets")
from nnlearn import playground as pg  # noqa: E402
from nnlearn import runtime  # noqa: E402


def draw(kind="sin", x=0.5, n=3):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    t = np.linspace(-3, 3, 50)
    ax.plot(t, np.sin(t * n) if kind == "sin" else np.cos(t * n))
    ax.axvline(x)
    plt.show()


def controls():
    return dict(kind=ipywidgets.Dropdown(options=["sin", "cos"], value="sin"),
                x=ipywidgets.FloatSlider(value=0.5, min=-1, max=1, step=0.05),
                n=ipywidgets.IntSlider(value=3, min=1, max=4))


def page_data(page):
    data = re.search(r'<script type="application/json" class="nnlearn-playground-data">(.*?)</script>', page, re.S)
    return json.loads(data.group(1).replace("<\\/", "</"))


def test_one_frame_per_setting_and_all_differ():
    live = ipywidgets.interactive(draw, **controls())
    plt.close("all")                                        # the live widget's first drawing
    page = pg.static_html(draw, live.kwargs_widgets, frames={"x": [-1.0, 0.0, 0.5, 1.0]})
    data = page_data(page)
    assert data["sizes"] == [2, 4, 4]                       # kind, x (given), n (every integer 1..4)
    assert len(data["frames"]) == 2 * 4 * 4
    assert len(set(data["frames"])) == len(data["images"]) == 32   # every setting draws a different picture
    for uri in data["images"]:
        assert uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert data["labels"][1] == ["-1.00", "0.00", "0.50", "1.00"]
    assert plt.get_fignums() == []                          # every frame's figure was closed


def test_defaults_are_selected_and_frame_order_matches_the_script():
    live = ipywidgets.interactive(draw, **controls())
    page = pg.static_html(draw, live.kwargs_widgets, frames={"x": [-1.0, 0.5]})
    data = page_data(page)
    assert '<option value="0" selected>sin</option>' in page
    assert 'data-control="1" min="0" max="1" step="1" value="1"' in page    # x = 0.5
    assert 'data-control="2" min="0" max="3" step="1" value="2"' in page    # n = 3
    # The script's index is C order over the controls: kind, then x, then n.
    expected = pg._render(draw, dict(kind="cos", x=-1.0, n=2), "png", 80)
    assert data["images"][data["frames"][(1 * 2 + 0) * 4 + 1]] == expected


def test_sliders_are_thinned_to_the_frame_budget_and_keep_their_value():
    live = ipywidgets.interactive(draw, **controls())
    page = pg.static_html(draw, live.kwargs_widgets, max_frames=40)
    sizes = page_data(page)["sizes"]
    assert sizes[0] == 2 and np.prod(sizes) <= 40 + 2 * 4   # the current value may add one position
    labels, values, default = pg.control_grid(live.kwargs_widgets[1], count=5)
    assert values[0] == -1 and values[-1] == 1 and values[default] == 0.5


def test_log_slider_and_fixed_values():
    log = ipywidgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0, step=0.5)
    log._kwarg = "lr"
    labels, values, default = pg.control_grid(log)
    assert np.allclose(values, 10.0 ** np.arange(-3, 0.01, 0.5)) and np.isclose(values[default], 0.1)
    fixed = ipywidgets.fixed(7)
    fixed._kwarg = "n"
    assert pg.control_grid(fixed) == (["7"], [7], 0)


def test_no_network_in_the_page_and_svg_frames():
    live = ipywidgets.interactive(draw, **controls())
    page = pg.static_html(draw, live.kwargs_widgets, frames={"x": [0.5], "n": [1, 2]}, fmt="svg")
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert "http" not in re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    images = page_data(page)["images"]
    assert len(images) == 4 and all(uri.startswith("data:image/svg+xml;charset=utf-8,%3C") for uri in images)
    assert not any(c in uri for uri in images for c in '"<># ')    # safe in an attribute and a URL
    again = pg.static_html(draw, live.kwargs_widgets, frames={"x": [0.5], "n": [1, 2]}, fmt="svg")
    assert again == page                                                # deterministic: same ids, no date


def test_errors_name_the_problem():
    live = ipywidgets.interactive(draw, **controls())
    with pytest.raises(ValueError, match=r"frames names \['y'\]"):
        pg.static_html(draw, live.kwargs_widgets, frames={"y": [1]})
    with pytest.raises(ValueError, match="exceed max_frames=10"):
        pg.static_html(draw, live.kwargs_widgets, frames={"x": [0, 1, 2, 3, 4, 5]}, max_frames=10)

    def no_figure(kind="sin", x=0.5, n=3):
        pass
    with pytest.raises(ValueError, match="drew no matplotlib figure"):
        pg.static_html(no_figure, ipywidgets.interactive(no_figure, **controls()).kwargs_widgets, max_frames=50)


def test_one_bundle_carries_live_widget_and_static_page(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    live = pg.playground(draw, frames={"x": [0.5], "n": [3]}, **controls())
    (bundle, raw), = shown
    assert raw and bundle[pg.WIDGET_VIEW]["model_id"] == live.model_id
    assert page_data(bundle["text/html"])["sizes"] == [2, 1, 1]
    plt.close("all")


def test_colab_gets_only_the_live_widget(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    live = pg.playground(draw, **controls())
    assert shown == [live]
    plt.close("all")


def test_quick_mode(monkeypatch):
    monkeypatch.delenv("NNLEARN_QUICK", raising=False)
    assert not runtime.is_quick() and runtime.pick(full=200, quick=5) == 200
    for off in ("0", "false", ""):
        monkeypatch.setenv("NNLEARN_QUICK", off)
        assert not runtime.is_quick()
    monkeypatch.setenv("NNLEARN_QUICK", "1")
    assert runtime.is_quick() and runtime.pick(full=200, quick=5) == 5

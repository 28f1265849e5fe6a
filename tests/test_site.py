"""The built book as a reader meets it: static checks of _build/html, then every page in a real
headless Chromium at 1280 px and 390 px, served on 127.0.0.1 with every other host unresolvable.

`make test` builds the book first (`make book`); a missing or stale build is rebuilt here.
Debian's chromium and chromium-driver are installed by `make test` when missing (as root);
elsewhere the browser tests are skipped with a loud message, and under CI=true they fail.
Screenshots of every page land in _build/site-test/ for a person to look at."""
import html
import html.parser
import re
import subprocess
import time
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml

import site_browser as sb

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "site-test"
SOURCES = ["book", "notebooks", "exercises", "nnlearn", "_static", "_config.yml", "_toc.yml", "references.bib",
           "package-lock.json"]
WIDTHS = {"desktop": 1280, "phone": 390}


def _newest(path):
    path = ROOT / path
    files = [path] if path.is_file() else path.rglob("*")
    return max((f.stat().st_mtime for f in files if f.is_file() and "__pycache__" not in f.parts
                and f.suffix not in (".pyc", ".png")), default=0)


@pytest.fixture(scope="session")
def site():
    index = SITE / ".built"                               # touched by every build (tools/sphinx_site.py)
    if not index.exists() or index.stat().st_mtime < max(_newest(p) for p in SOURCES):
        subprocess.run(["make", "--no-print-directory", "book"], cwd=ROOT, check=True)
    return SITE


def pages(site):
    return sorted(p for p in site.rglob("*.html") if not {"_static", "_sources", "_images"} & set(p.parts))


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids.update(v for k, v in attrs.items() if k in ("id", "name") and v)
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append((tag, attrs[key]))


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_every_internal_link_and_anchor_resolves(site):
    parsed = {p: _parse(p) for p in pages(site)}
    broken = []
    for page, info in parsed.items():
        for tag, link in info.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            name = page.relative_to(site)
            if not target.exists():
                broken.append(f"{name}: <{tag}> {link} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{name}: <{tag}> {link} (no anchor #{parts.fragment})")
    assert not broken, "\n".join(broken)


def test_no_script_or_style_from_another_host(site):
    remote = []
    for page in pages(site):
        for tag, link in _parse(page).links:
            if tag in ("script", "link", "img", "iframe") and (urlsplit(link).scheme in ("http", "https")
                                                               or link.startswith("//")):
                remote.append(f"{page.relative_to(site)}: <{tag}> {link}")
    assert not remote, "\n".join(remote)


def test_pen_and_paper_problems_and_their_solutions_are_named_alike(site):
    """Lecture pages number pen-and-paper problems "Problem k.n" ("Exercise k.n" is an autograded
    exercise of a notebook); a problem's solution must not be called "Solution to Exercise k.n"."""
    text = {p.relative_to(site).as_posix(): _text(p) for p in sorted(site.glob("book/*.html"))}
    assert any(re.search(r"Problem \d+\.\d+", t) for t in text.values()), "no numbered problem found"
    wrong = [f"{name}: {m.group(0)}" for name, t in text.items()
             for m in re.finditer(r"Solution to\s*(Exercise|Problem)?\s*[\d.]*", t)]
    assert not wrong, "\n".join(wrong)


def test_launch_links_point_at_the_right_files(site):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = urlsplit(config["repository"]["url"]).path.strip("/").removesuffix(".git")
    branch = config["repository"].get("branch", "main")
    colab = re.compile(rf"https://colab\.research\.google\.com/github/{repo}/blob/{branch}/(.+\.ipynb)$")
    binder = re.compile(rf"https://mybinder\.org/v2/gh/{repo}/{branch}\?urlpath=tree/(.+\.ipynb)$")
    problems, launched = [], set()
    for page in pages(site):
        name = page.relative_to(site).with_suffix(".ipynb").as_posix()
        for _, link in _parse(page).links:
            link = link.replace("&amp;", "&")
            if "colab.research.google.com/github" in link or "mybinder.org/v2" in link:
                match = colab.match(link) or binder.match(link)
                if not match:
                    problems.append(f"{page.relative_to(site)}: launch link of another form: {link}")
                elif match.group(1) != name or not (ROOT / name).is_file():
                    problems.append(f"{page.relative_to(site)}: launches {match.group(1)}, expected {name}")
                else:
                    launched.add(name)
    notebooks = {p.relative_to(site / "_sources").as_posix() for p in (site / "_sources").rglob("*.ipynb")}
    assert notebooks, "no notebook pages in the site"
    assert not problems, "\n".join(problems)
    assert launched == notebooks, f"notebook pages without Colab/Binder links: {sorted(notebooks - launched)}"


def _text(path):
    """What a reader can see of a file: a notebook's cell sources and outputs, a page's text."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        outputs = [o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for c in nb.cells
                   for o in c.get("outputs", [])]
        return "\n".join([c.source for c in nb.cells] + outputs)
    text = path.read_text(encoding="utf-8", errors="replace")
    return html.unescape(re.sub(r"<[^>]+>", "", text)) if path.suffix == ".html" else text


def _instructor_lines():
    """Distinctive lines only the instructor has: reference answers, hidden tests and setup, mutants."""
    public = "\n".join(_text(p) for d in ("book", "notebooks", "exercises") for p in (ROOT / d).glob("*.*"))
    lines = {"### BEGIN SOLUTION", "### END SOLUTION"}
    for path in (ROOT / "solutions").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            role = cell.metadata.get("nnlearn", {}).get("role")
            source = cell.source
            if role == "answer":
                source = source.split("### BEGIN SOLUTION", 1)[-1].split("### END SOLUTION", 1)[0]
            elif role not in ("hidden-tests", "hidden-setup", "mutant"):
                continue
            for line in source.splitlines():
                line = line.strip()
                if len(line) >= 24 and not line.startswith("#") and line not in public:
                    lines.add(line)
    return lines


def test_no_reference_solution_or_hidden_test_anywhere_in_the_site(site):
    secrets = _instructor_lines()
    assert len(secrets) > 20, "too few instructor lines found: the leak check would be blind"
    # The check can see code: a line of a student copy's code is found in its page's text.
    page = next(site.glob("exercises/*.html"))
    shown = [line.strip() for c in nbformat.read(ROOT / "exercises" / (page.stem + ".ipynb"), as_version=4).cells
             if c.cell_type == "code" for line in c.source.splitlines() if len(line.strip()) >= 24]
    assert shown and shown[-1] in _text(page), f"{page.name}: code lines are not found in the page's text"
    leaks = []
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".txt", ".ipynb", ".json", ".md"):
            text = _text(path)
            leaks += [f"{path.relative_to(site)}: {line}" for line in secrets if line in text]
    assert not leaks, "instructor text in the site:\n" + "\n".join(leaks[:30])


# --- in the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    found = sb.browser_binaries()
    if not found:
        message = ("chromium and chromium-driver are not installed, so the site was NOT tested in a "
                   "browser. As root on Debian/Ubuntu `make test` installs them (apt-get install "
                   "chromium chromium-driver).")
        if sb.ci():
            pytest.fail("CI=true: " + message)
        warnings.warn(message)
        pytest.skip("!!! " + message)
    netlog = tmp_path_factory.mktemp("netlog") / "net.json"
    driver = sb.start_chromium(*found, netlog)
    yield driver
    sb.stop_chromium(driver)
    requests = sb.netlog_requests(netlog)
    from_pages = [url for url, initiator in requests or () if urlsplit(initiator).hostname == "127.0.0.1"]
    assert from_pages, f"Chromium's network log {netlog} is missing, unreadable or has no page request"
    outside = sorted({u for u in from_pages if urlsplit(u).hostname != "127.0.0.1"})
    assert not outside, "pages (or their workers) asked other hosts for:\n" + "\n".join(outside[:20])


@pytest.fixture(scope="session")
def server(site):
    httpd, base = sb.serve(site)
    yield httpd, base
    httpd.shutdown()


def _wait_ready(driver):
    driver.execute_async_script("""
      const done = arguments[arguments.length - 1];
      const typeset = () => (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
      const ready = () => document.readyState === "complete" ? typeset().then(() => done(true), () => done(false))
                                                              : setTimeout(ready, 50);
      ready();""")


def _menus(driver, width):
    """Problems with the sidebar buttons: on a phone they open the menus; on a desktop the
    primary one collapses and restores the sidebar."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    visible = lambda sel: [b for b in driver.find_elements(By.CSS_SELECTOR, sel) if b.is_displayed()]
    problems = []
    if width < 992:
        for selector, dialog in ((".primary-toggle", "pst-primary-sidebar-modal"),
                                 (".secondary-toggle", "pst-secondary-sidebar-modal")):
            buttons = visible(selector)
            if not buttons:
                if selector == ".primary-toggle":
                    problems.append("no visible menu button (☰)")
                continue
            buttons[0].click()
            time.sleep(0.3)
            opened = driver.execute_script(
                f"const d = document.getElementById('{dialog}'); return !!(d && d.open && "
                "d.getBoundingClientRect().width > 100 && d.querySelector('a'));")
            if not opened:
                problems.append(f"{selector} button opens nothing")
            driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
            driver.execute_script(f"const d = document.getElementById('{dialog}'); if (d && d.open) d.close();")
    else:
        sidebar = lambda: driver.execute_script(
            "const s = document.getElementById('pst-primary-sidebar'); return s ? s.getBoundingClientRect().width : 0;")
        buttons = visible(".primary-toggle")
        if sidebar() > 0 and buttons:
            buttons[0].click()
            time.sleep(0.5)
            collapsed = sidebar()
            buttons[0].click()
            time.sleep(0.5)
            if collapsed > 1 or sidebar() < 100:
                problems.append(f"sidebar button: width {collapsed:.0f}px after one click, {sidebar():.0f}px after two")
    return problems


def _menu_sample(name):
    """Pages whose sidebar buttons are clicked: every page comes from one of a few templates (the
    theme's, with or without a notebook's or the index's extras), so the first page of each
    folder and every top-level page stand for them; the other checks run on every page."""
    folder, _, page = name.rpartition("/")
    return folder in ("", "book") and not page.startswith("ch") or page.startswith("ch01_")


def _playgrounds(driver):
    """Problems with the playgrounds: each control, moved step by step (at most 6 steps, from its
    default towards its far end), must change the figure on the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    problems = []
    for n, pg in enumerate(driver.find_elements(By.CSS_SELECTOR, ".nnlearn-playground")):
        img = pg.find_element(By.TAG_NAME, "img")
        for control in pg.find_elements(By.CSS_SELECTOR, "[data-control]"):
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", pg)
            before_src, before_png = img.get_attribute("src"), img.screenshot_as_png
            is_menu = control.tag_name == "select"
            count = len(Select(control).options) if is_menu else int(control.get_attribute("max")) + 1
            start = int(control.get_attribute("value"))
            forward = start < count / 2
            for step in range(1, min(6, count - 1) + 1):
                k = start + step if forward else start - step
                if is_menu:
                    Select(control).select_by_index(k)
                else:
                    control.send_keys(Keys.ARROW_RIGHT if forward else Keys.ARROW_LEFT)
                if img.get_attribute("src") != before_src:
                    break
            time.sleep(0.1)
            if img.get_attribute("src") == before_src or img.screenshot_as_png == before_png:
                problems.append(f"playground {n + 1}: moving control {control.get_attribute('data-control')} "
                                f"does not change the figure")
    return problems


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_every_page_in_chromium(site, server, browser, width_name):
    httpd, base = server
    width = WIDTHS[width_name]
    browser.set_window_size(width, 900)
    browser.get_log("browser"), browser.get_log("performance")
    (SHOTS / width_name).mkdir(parents=True, exist_ok=True)
    report = {}
    for page in pages(site):
        name = page.relative_to(site).as_posix()
        browser.get(base + name)
        _wait_ready(browser)
        inner = browser.execute_script("return window.innerWidth")
        problems = [] if abs(inner - width) <= 20 else [f"window is {inner}px wide, not {width}px"]
        problems += browser.execute_script(sb.PAGE_CHECKS)
        if _menu_sample(name):
            problems += _menus(browser, width)
            browser.get(base + name)       # the menu checks moved the page's nodes around: reload
            _wait_ready(browser)
        problems += _playgrounds(browser)
        browser.save_screenshot(str(SHOTS / width_name / (name.replace("/", "__") + ".png")))
        problems += [f"console: {e['message'][:300]}" for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        urls, failed = sb.network_events(browser)
        problems += [f"request to another host: {u}" for u in urls
                     if urlsplit(u).scheme in ("http", "https") and not u.startswith(base)]
        problems += [f"failed request: {f}" for f in failed]
        if problems:
            report[name] = problems
    server_errors = sorted({f"{path} -> {code}" for path, code in httpd.requests if code >= 400})
    if server_errors:
        report["(server)"] = server_errors
    assert not report, f"at {width}px:\n" + "\n".join(
        f"{name}:\n  " + "\n  ".join(dict.fromkeys(problems)) for name, problems in report.items())

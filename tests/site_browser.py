"""Helpers of tests/test_site.py: a local web server for _build/html and a headless Chromium
(Debian's chromium + chromium-driver through selenium) that can reach only that server."""
import functools
import http.server
import json
import os
import shutil
import tempfile
import threading

# Every check a page gets in the browser, as one script: it returns a list of problems.
PAGE_CHECKS = r"""
const problems = [];
const width = window.innerWidth;
if (document.scrollingElement.scrollWidth > width + 1)
  problems.push(`page scrolls sideways: ${document.scrollingElement.scrollWidth}px wide in a ${width}px window`);
// Raw TeX left in the text after MathJax ran (code blocks and typeset math excluded).
const skip = "PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, .highlight";
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!el || el.closest(skip) || !el.getClientRects().length) continue;
  const tex = node.textContent.match(/\\(frac|mathbf|mathcal|sum|partial|left|right|begin|end|sigma|varphi|nabla|odot|top|cdot|boldsymbol|mathrm|hat|tfrac|operatorname)\b|\$\$|\\\[|\\\(/);
  if (tex) problems.push(`raw TeX "${tex[0]}" in: ${node.textContent.trim().slice(0, 80)}`);
}
document.querySelectorAll(".math").forEach((el) => {
  if (!el.querySelector("mjx-container") && el.getClientRects().length)
    problems.push(`math not typeset: ${el.textContent.trim().slice(0, 80)}`);
});
// A display equation must fit the window or sit in a box that scrolls sideways.
document.querySelectorAll('mjx-container[display="true"]').forEach((el) => {
  let box = el;
  while (box && box !== document.body && !["auto", "scroll"].includes(getComputedStyle(box).overflowX))
    box = box.parentElement;
  const scrolls = box && box !== document.body;
  const r = (scrolls ? box : el).getBoundingClientRect();
  const wide = scrolls ? r.right > width + 1 : el.scrollWidth > el.clientWidth + 1 || r.right > width + 1;
  if (wide) problems.push(`equation clipped at ${width}px: ${el.textContent.trim().slice(0, 60)}`);
});
// Controls must be playgrounds; widgets that need a kernel must not be on the page.
document.querySelectorAll('input[type="range"], select, .jupyter-widgets, .widget-interact').forEach((el) => {
  if (!el.closest(".nnlearn-playground") && !el.closest(".bd-header, .bd-sidebar-primary, .search-button-field, form"))
    problems.push(`control outside a playground: <${el.tagName.toLowerCase()} class="${el.className}">`);
});
if (document.querySelector('script[type="application/vnd.jupyter.widget-view+json"]'))
  problems.push("an ipywidget view (needs a kernel) is on the page");
const repr = document.body.innerText.match(/\b(interactive|VBox|HBox|Output)\(children=.{0,60}/);
if (repr) problems.push(`a widget shown as its text form (it needs a kernel): ${repr[0]}`);
return problems;
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def log_request(self, code="-", size="-"):
        self.server.requests.append((self.path, int(code) if str(code).isdigit() else 0))


def serve(directory):
    """(server, base url): a threaded server on 127.0.0.1, logging (path, status) in .requests."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def browser_binaries():
    """(chromium, chromedriver) paths, or None where either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def start_chromium(chromium, driver_path, netlog):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="nnlearn-chromium-")
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
                 # Every host but the local server is unresolvable: a page that needs a CDN shows it.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 f"--log-net-log={netlog}", "--net-log-capture-mode=Default"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.profile_dir = profile
    return driver


def stop_chromium(driver):
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def network_events(driver):
    """(requested urls, failed requests as 'url: why') from the DevTools performance log."""
    urls, failed, by_id = [], [], {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            by_id[params["requestId"]] = params["request"]["url"]
            urls.append(params["request"]["url"])
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            failed.append(f"{params['response']['url']}: HTTP {params['response']['status']}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            failed.append(f"{by_id.get(params['requestId'], '?')}: {params.get('errorText')}")
    return urls, failed


def netlog_requests(path):
    """(url, initiator) of every request Chromium's network stack started, workers' included, or
    None if the log is unreadable. The initiator is the origin of the page that asked for it;
    the browser's own background requests have none ("not an origin")."""
    try:
        text = open(path, encoding="utf-8", errors="replace").read().rstrip()
    except OSError:
        return None
    for candidate in (text, text.rstrip(",") + "]}"):     # complete, or cut off inside "events"
        try:
            log = json.loads(candidate)
            break
        except ValueError:
            continue
    else:
        return None
    return [(event["params"]["url"], event["params"]["initiator"]) for event in log.get("events", [])
            if isinstance((event.get("params") or {}).get("url"), str) and "initiator" in event["params"]]


def ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")

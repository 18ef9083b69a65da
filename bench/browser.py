"""Weight and speed in the browser: what a publisher's page pays for the unit, and how soon
a reader can act. Headless Debian Chromium driven by Playwright, cold cache every run.

The page is the example publisher site (``examples/publisher``, served on
``http://localhost:P`` by ``socialads.web.publisher``) embedding a live pledge unit served by a
real ``socialads serve`` on ``http://127.0.0.1:Q``: another origin, as on a real site.
Only what comes from the ad server counts (the publisher's own page does not).

- first paint: the page loads at 1280x720, the unit below the fold; after ``load`` and
  one more second, the requests to the ad server and their bytes as transferred
  (compressed body + response headers, Chromium's own sizes), and whether a socket opened
  (it must not: the live code loads only once the unit is in view);
- live mode: the unit is scrolled into view; once its action control is enabled (joined)
  and half a second more, everything so far, WebSocket frames included (payload bytes,
  both ways; the upgrade's headers are not counted);
- time to interactive: ``--browser-runs`` (5) loads at 1280x4000 (the unit in view from
  the start), from the top page's navigation start to the moment the action control lost
  its ``disabled`` (a MutationObserver inside the unit's frame, in the same clock);
  median. The baseline: a page on localhost framing the bare app's ``/page`` on
  127.0.0.1, which loads the stock ``socket.io.min.js`` (uncompressed, as a bare Flask
  app sends it), connects over WebSocket and enables its button on the join ack.
"""

from __future__ import annotations

import statistics
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from common import ROOT, baselines, log, ours, stop_all, timed_gets

from socialads.runtime.processes import free_port
from socialads.web.publisher import publisher_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTION = "[data-socialad-action]"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
# Runs in every frame from its first moment: the unit's frame notes when its action
# control becomes enabled, as a time on the shared clock (timeOrigin + now).
OBSERVE = """(() => {
  const look = () => {
    const control = document.querySelector('[data-socialad-action]');
    if (control && !control.disabled && !window.__enabledAt) {
      window.__enabledAt = performance.timeOrigin + performance.now();
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true,
                                                attributes: true, attributeFilter: ['disabled']});
})();"""


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_wsgi(app) -> tuple[str, WSGIServer]:
    port = free_port()
    httpd = make_server("127.0.0.1", port, app, server_class=_Threading, handler_class=_Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://localhost:{port}", httpd


def frame_page(target: str):
    """A host page on another origin framing ``target`` (the baseline's bare page)."""
    body = (
        f'<!doctype html><meta charset="utf-8"><title>host</title><h1>host</h1>'
        f'<iframe src="{target}" width="600" height="300"></iframe>'
    ).encode()

    def app(_environ, start_response):
        start_response(
            "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


class Watch:
    """What one page fetched from one origin, and its WebSocket traffic."""

    def __init__(self, page, origin: str):
        self.origin = origin
        self.finished: list = []
        self.sockets = 0
        self.frame_bytes = 0
        page.on("requestfinished", self._finished)
        page.on("websocket", self._socket)

    def _finished(self, request):
        if request.url.startswith(self.origin):
            self.finished.append(request)

    def _socket(self, socket):
        if socket.url.replace("ws://", "http://").startswith(self.origin):
            self.sockets += 1
            socket.on("framereceived", self._frame)
            socket.on("framesent", self._frame)

    def _frame(self, payload):
        self.frame_bytes += len(payload if isinstance(payload, bytes | str) else b"")

    def waterfall(self, origin: float) -> list[list]:
        """``[path, start ms, end ms]`` of each request, from the top page's timeOrigin."""
        rows = []
        for request in self.finished:
            timing = request.timing
            start = timing["startTime"] - origin
            rows.append(
                [
                    request.url.replace(self.origin, "")[:40],
                    round(start),
                    round(start + max(timing["responseEnd"], 0)),
                ]
            )
        return sorted(rows, key=lambda row: row[1])

    def tally(self, upto: int | None = None) -> dict:
        requests = self.finished[:upto]
        items = []
        for request in requests:
            sizes = request.sizes()
            items.append(
                {
                    "url": request.url.replace(self.origin, ""),
                    "body": sizes["responseBodySize"],
                    "headers": sizes["responseHeadersSize"],
                }
            )
        return {
            "requests": len(items),
            "bytes": sum(i["body"] + i["headers"] for i in items),
            "body_bytes": sum(i["body"] for i in items),
            "items": items,
        }


def unit_frame(page, path: str):
    for frame in page.frames:
        if path in frame.url:
            return frame
    return None


def weight(browser, publisher: str, ad_origin: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        watch = Watch(page, ad_origin)
        page.goto(publisher + "/", wait_until="load")
        page.wait_for_timeout(1000)
        first = watch.tally()
        first["sockets"] = watch.sockets
        first["unit_in_view_at_load"] = page.evaluate(
            "(() => { const r = document.querySelector('iframe').getBoundingClientRect();"
            " return r.top < innerHeight; })()"
        )
        count = len(watch.finished)
        page.locator("iframe").first.scroll_into_view_if_needed()
        frame = unit_frame(page, "/w/")
        frame.wait_for_selector(f"{ACTION}:not([disabled])", timeout=15_000)
        page.wait_for_timeout(500)
        live = watch.tally()
        live.update(
            sockets=watch.sockets,
            websocket_payload_bytes=watch.frame_bytes,
            added_requests=[i["url"] for i in live["items"][count:]],
        )
        live["bytes_with_websocket"] = live["bytes"] + watch.frame_bytes
        embed = next((i for i in first["items"] if i["url"].startswith("/embed.js")), None)
        return {"first_paint": first, "live": live, "embed_js": embed}
    finally:
        context.close()


def time_to_interactive(browser, url: str, path: str, origin: str, runs: int) -> dict:
    times, waterfalls = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 4000})
        try:
            context.add_init_script(OBSERVE)
            page = context.new_page()
            watch = Watch(page, origin)
            page.goto(url, wait_until="commit")
            started = page.evaluate("performance.timeOrigin")
            page.wait_for_selector("iframe")
            frame = None
            for _ in range(100):
                frame = unit_frame(page, path)
                if frame is not None:
                    break
                page.wait_for_timeout(20)
            frame.wait_for_selector(f"{ACTION}:not([disabled])", timeout=15_000)
            enabled = frame.evaluate("window.__enabledAt || null")
            if enabled is None:
                raise RuntimeError("the frame's observer saw no enabled control")
            times.append(round(enabled - started, 1))
            waterfalls.append(
                watch.waterfall(started) + [["(control enabled)", round(enabled - started), None]]
            )
        finally:
            context.close()
    median = statistics.median(times)
    closest = min(range(len(times)), key=lambda i: abs(times[i] - median))
    return {"runs_ms": times, "median_ms": median, "waterfall_of_median_run": waterfalls[closest]}


def browser_figure(ctx, args) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"chromium": CHROMIUM}
    servers = ours(ctx.redis.url, ctx.tmp, 1)
    base = baselines(ctx.redis.url, ctx.tmp, 1)
    httpds = []
    try:
        ad_origin = servers[0].url
        port = free_port()
        publisher = f"http://localhost:{port}"
        cid = ctx.campaign("bench browser", allowed_origins=[publisher])
        app = publisher_app(ROOT / "examples" / "publisher", ad_origin, cid)
        httpd = make_server("127.0.0.1", port, app, server_class=_Threading, handler_class=_Quiet)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        httpds.append(httpd)
        host, host_httpd = serve_wsgi(frame_page(base[0].url + "/page"))
        # What the server takes to answer the first paint's two documents, without a browser.
        out["server_ms"] = {
            "widget_html": timed_gets(
                ad_origin,
                f"/w/{cid}",
                {
                    "Accept-Encoding": "br, gzip",
                    "Referer": publisher + "/",
                    "User-Agent": BROWSER_UA,
                },
                args.browser_runs * 10,
            ),
            "embed_js": timed_gets(
                ad_origin, "/embed.js", {"Accept-Encoding": "br, gzip"}, args.browser_runs * 10
            ),
            "baseline_page": timed_gets(base[0].url, "/page", {}, args.browser_runs * 10),
        }
        httpds.append(host_httpd)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                out["version"] = browser.version
                log("browser: first paint and live weight")
                out["ours"] = weight(browser, publisher, ad_origin)
                log(f"browser: time to interactive, {args.browser_runs} runs each")
                out["ours"]["tti"] = time_to_interactive(
                    browser, publisher + "/", "/w/", ad_origin, args.browser_runs
                )
                out["baseline"] = {
                    "tti": time_to_interactive(
                        browser, host, "/page", base[0].url, args.browser_runs
                    )
                }
                page_weight = _baseline_weight(browser, host, base[0].url)
                out["baseline"].update(page_weight)
            finally:
                browser.close()
        log(
            f"browser: TTI median ours {out['ours']['tti']['median_ms']} ms, baseline "
            f"{out['baseline']['tti']['median_ms']} ms"
        )
        return out
    finally:
        for httpd in httpds:
            httpd.shutdown()
            httpd.server_close()
        stop_all(servers + base)


def _baseline_weight(browser, host: str, origin: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        watch = Watch(page, origin)
        page.goto(host, wait_until="load")
        frame = unit_frame(page, "/page")
        frame.wait_for_selector(f"{ACTION}:not([disabled])", timeout=15_000)
        page.wait_for_timeout(500)
        live = watch.tally()
        live.update(
            websocket_payload_bytes=watch.frame_bytes,
            bytes_with_websocket=live["bytes"] + watch.frame_bytes,
        )
        return {"live": live}
    finally:
        context.close()

#!/usr/bin/env python3
"""The web console in headless Chromium (Selenium), against a dispatcher that ops/console-test started.

Steps: a wrong token is refused on the login form and the admin's is taken; a job submitted through the
API appears on the jobs page and succeeds; a running job is cancelled from its page (and the API agrees);
a viewer sees the cancel button disabled, and the server's 403 in the banner when the button is forced;
then screenshots of the main pages go to --screenshots. Every wait is bounded; on a failure the message
holds the page's text and the script exits 1.
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

TIMEOUT = 30
HOSTILE = "<img src=x onerror=\"window.hostile=true\"><script>window.hostile=true</script>"


class Failure(Exception):
    pass


def step(message):
    print(f"== {message}", flush=True)


class API:
    """The dispatcher's API with one token (urllib; no dependency but Selenium)."""

    def __init__(self, url, token):
        self.url = url
        self.token = token

    def call(self, method, path, body=None, raw=False):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, method=method, data=data)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                payload = response.read()
                if raw:
                    return response.status, dict(response.headers), payload
                return response.status, json.loads(payload) if payload else None
        except urllib.error.HTTPError as error:
            payload = error.read()
            if raw:
                return error.code, dict(error.headers), payload
            try:
                return error.code, json.loads(payload)
            except ValueError:
                return error.code, payload.decode(errors="replace")

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        if status >= 300:
            raise Failure(f"{method} {path} answered {status}: {answer}")
        return answer


class Console:
    """The page in the browser, with bounded waits that report what the page shows."""

    def __init__(self, driver, url):
        self.driver = driver
        self.url = url

    def text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException as error:
            return f"(no page: {error})"

    def wait(self, what, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = predicate()
                if result:
                    return result
            except (NoSuchElementException, StaleElementReferenceException):
                pass  # the page was redrawn between finding and reading: try again
            time.sleep(0.2)
        raise Failure(f"waited {timeout} s for {what}; the page shows:\n{self.text()}")

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def shown(self, css):
        elements = self.driver.find_elements(By.CSS_SELECTOR, css)
        return elements[0] if elements and elements[0].is_displayed() else None

    def go(self, route):
        self.driver.get(f"{self.url}/#/{route}")

    def text_of(self, css):
        return self.find(css).text.strip()

    def log_in(self, token, expect_role=None):
        self.wait("the login form", lambda: self.shown("#token"))
        field = self.find("#token")
        field.clear()
        field.send_keys(token)
        self.find("#login-button").click()
        if expect_role:
            self.wait(f"signed in as {expect_role}",
                      lambda: self.shown("[data-testid=role]") and self.text_of("[data-testid=role]") == expect_role)

    def log_out(self):
        self.find("#logout").click()
        self.wait("the login form after logging out", lambda: self.shown("#token"))

    def job_state_in_list(self, job_id):
        return self.text_of(f'tr[data-job-id="{job_id}"] [data-testid=job-state]')

    def screenshot(self, folder, name, ready):
        if not folder:
            return
        self.wait(f"the {name} page to be drawn", ready)
        time.sleep(0.5)
        path = f"{folder}/console-{name}.png"
        if not self.driver.save_screenshot(path):
            raise Failure(f"could not save {path}")
        print(f"   saved {path}", flush=True)


def check_served_files(api):
    step("the console is served without a token, with a strict Content-Security-Policy")
    anonymous = API(api.url, None)
    for path, kind in [("/", "text/html"), ("/console/console.js", "text/javascript"),
                       ("/console/console.css", "text/css")]:
        status, headers, _ = anonymous.call("GET", path, raw=True)
        headers = {key.lower(): value for key, value in headers.items()}
        if status != 200 or not headers.get("content-type", "").startswith(kind):
            raise Failure(f"GET {path}: {status} {headers.get('content-type')}")
        if "script-src 'self'" not in headers.get("content-security-policy", ""):
            raise Failure(f"GET {path}: no strict Content-Security-Policy: {headers}")
        if headers.get("cache-control") != "no-cache":
            raise Failure(f"GET {path}: Cache-Control {headers.get('cache-control')}")
    status, _, _ = anonymous.call("GET", "/console/nothing.js", raw=True)
    if status != 404:
        raise Failure(f"GET /console/nothing.js: {status}, not 404")


def wait_api(console, what, predicate):
    return console.wait(what, predicate)


def set_up_screenshot_data(api, group):
    """Work queues with items, a queue trigger, a workflow, a pipeline and a launch waiting for an account."""
    for name in ["invoices", "emails"]:
        api.ok("POST", "/v1/queues", {"name": name})
    api.ok("POST", "/v1/queues/invoices/items/bulk",
           {"items": [{"reference": f"INV-{n:04d}", "payload": {"amount": n * 10}} for n in range(1, 41)]})
    api.ok("POST", "/v1/queues/emails/items/bulk", {"items": [{"payload": {"to": f"user{n}@example.com"}}
                                                               for n in range(1, 16)]})
    api.ok("PUT", "/v1/queues/emails/trigger",
           {"bot": "console-quick", "group": group, "minItemsToTrigger": 100, "maxConcurrentJobs": 2})
    api.ok("POST", "/v1/workflows", {
        "name": "nightly-report", "group": group,
        "nodes": [{"id": "extract", "bot": "console-quick"}, {"id": "transform", "bot": "console-quick"},
                  {"id": "publish", "bot": "console-slow"}, {"id": "alert", "bot": "console-quick"}],
        "edges": [{"from": "extract", "to": "transform"}, {"from": "transform", "to": "publish"},
                  {"from": "extract", "to": "alert", "on": "failure"}]})
    workflow_run = api.ok("POST", "/v1/workflows/nightly-report/runs", {"initiator": "console test"})["id"]
    api.ok("POST", "/v1/pipelines", {"name": "month-end", "group": group,
                                     "steps": [{"bot": "console-quick"}, {"bot": "console-quick"}]})
    api.ok("POST", "/v1/pipelines/month-end/runs", {"initiator": "console test"})
    # Targeted at an account no worker serves: it waits in the robot queue with its reason.
    status, answer = api.call("POST", "/v1/jobs", {"bot": "console-quick", "group": group, "account": "robot9",
                                                   "host": "console-host",
                                                   "robotQueue": {"waitSeconds": 30, "maxAttempts": 100}})
    print(f"   a launch for robot9@console-host: {status} {answer}", flush=True)
    return workflow_run


def work_some_items(api, count):
    """Claims and completes items of the invoices queue, as a bot would: throughput for the chart."""
    for _ in range(count):
        status, claim = api.call("POST", "/v1/queues/invoices/claim", {})
        if status != 200:
            return
        api.ok("POST", f"/v1/items/{claim['item']['id']}/complete",
               {"leaseToken": claim["leaseToken"], "output": {"paid": True}})


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--admin-token-file", required=True)
    parser.add_argument("--viewer-token-file", required=True)
    parser.add_argument("--group", default="console")
    parser.add_argument("--screenshots", help="folder for console-<page>.png")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    arguments = parser.parse_args()
    admin_token = open(arguments.admin_token_file).read().strip()
    viewer_token = open(arguments.viewer_token_file).read().strip()
    api = API(arguments.url, admin_token)
    group = arguments.group

    check_served_files(api)

    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--disable-gpu", "--hide-scrollbars"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(arguments.chromedriver), options=options)
    driver.set_page_load_timeout(TIMEOUT)
    # The page itself 1280×900 (the window's size would include the browser's frame).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    console = Console(driver, arguments.url)
    try:
        step("log in: a wrong token is refused with the server's reason, the admin's token is taken")
        driver.get(arguments.url + "/")
        console.log_in("not-a-token")
        console.wait("the login error", lambda: "invalid_token" in console.text_of("#login-error")
                     or "unauthenticated" in console.text_of("#login-error"))
        print(f"   refused: {console.text_of('#login-error')}", flush=True)
        console.log_in(admin_token, expect_role="admin")

        step("a job submitted through the API appears on the jobs page and succeeds")
        console.go("jobs")
        console.wait("the jobs page", lambda: console.shown("p.empty") or console.shown("table.grid"))
        # An input that would run if the page ever drew data as HTML.
        quick = api.ok("POST", "/v1/jobs", {"bot": "console-quick", "group": group,
                                            "inputs": {"note": HOSTILE}})["id"]
        console.wait(f"job {quick} on the jobs page", lambda: console.shown(f'tr[data-job-id="{quick}"]'))
        seen = set()

        def quick_succeeded():
            state = console.job_state_in_list(quick)
            seen.add(state)
            return state == "succeeded"

        console.wait(f"job {quick} to show succeeded", quick_succeeded)
        print(f"   job {quick} seen as {sorted(seen)}", flush=True)

        step("a running job is cancelled from its page")
        slow = api.ok("POST", "/v1/jobs", {"bot": "console-slow", "group": group})["id"]
        console.go(f"jobs/{slow}")
        console.wait(f"job {slow} to show running", lambda: console.text_of("#job-state") == "running")
        console.find("#cancel-button").click()
        console.wait(f"job {slow} to show cancelled", lambda: console.text_of("#job-state") == "cancelled")
        state = api.ok("GET", f"/v1/jobs/{slow}")["state"]
        if state != "cancelled":
            raise Failure(f"the page shows job {slow} cancelled, the API says {state}")
        print(f"   job {slow}: cancelled on the page and in the API", flush=True)

        step("a viewer sees the cancel button disabled, and the server's refusal when it is forced")
        running = api.ok("POST", "/v1/jobs", {"bot": "console-slow", "group": group})["id"]
        console.log_out()
        console.log_in(viewer_token, expect_role="viewer")
        console.go(f"jobs/{running}")
        console.wait(f"job {running} to show running", lambda: console.text_of("#job-state") == "running")
        button = console.find("#cancel-button")
        if button.is_enabled() or button.get_attribute("title") != "needs the operator role":
            raise Failure(f"a viewer's cancel button: enabled={button.is_enabled()} "
                          f"title={button.get_attribute('title')!r}")
        print(f"   disabled, titled {button.get_attribute('title')!r}", flush=True)
        driver.execute_script("arguments[0].disabled = false", button)
        button.click()
        console.wait("the refusal in the banner", lambda: console.shown("[data-testid=error-banner]")
                     and "forbidden" in console.text_of("[data-testid=error-banner]"))
        print(f"   banner: {console.text_of('#banner-text')}", flush=True)
        state = api.ok("GET", f"/v1/jobs/{running}")["state"]
        if state != "running":
            raise Failure(f"a viewer's refused cancel changed job {running}: {state}")
        console.log_out()
        console.log_in(admin_token, expect_role="admin")

        step("screenshots of the main pages")
        folder = arguments.screenshots
        workflow_run = set_up_screenshot_data(api, group)
        console.go("queues")
        for _ in range(8):  # samples for the charts: items arrive and are worked between polls
            work_some_items(api, 3)
            api.ok("POST", "/v1/queues/emails/items", {"payload": {"to": "late@example.com"}})
            time.sleep(2.1)
        console.screenshot(folder, "queues", lambda: console.shown('tr[data-queue="invoices"]')
                           and len(driver.find_elements(By.CSS_SELECTOR, "svg.chart polyline")) == 2)
        console.go(f"runs/workflow/{workflow_run}")
        console.screenshot(folder, "workflow-run",
                           lambda: console.shown('g[data-node-id="publish"][data-state="running"]'))
        console.go("runs")
        console.screenshot(folder, "runs", lambda: console.shown(f'tr[data-run-id="{workflow_run}"]'))
        console.go("fleet")
        console.screenshot(folder, "fleet", lambda: console.shown('tr[data-worker-id="console-worker-1"]'))
        console.go("jobs")
        console.screenshot(folder, "jobs", lambda: console.shown(f'tr[data-job-id="{running}"]'))
        console.go(f"jobs/{quick}")
        console.screenshot(folder, "job", lambda: console.shown("#job-state"))
        step("a hostile input is shown as text, not run as HTML")
        if HOSTILE not in console.text() or driver.find_elements(By.CSS_SELECTOR, "table.map img, table.map script"):
            raise Failure(f"job {quick}'s input was not drawn as text; the page shows:\n{console.text()}")
        if driver.execute_script("return window.hostile === true"):
            raise Failure("a hostile input ran as script")
        console.go("robot-queue")
        console.screenshot(folder, "robot-queue", lambda: console.shown("table.grid") or console.shown("p.empty"))
        console.go("triggers")
        console.screenshot(folder, "triggers", lambda: console.shown('tr[data-queue="emails"]'))

        step("no Content-Security-Policy violations in the browser's console")
        violations = [entry["message"] for entry in driver.get_log("browser")
                      if "Content Security Policy" in entry["message"]]
        if violations:
            raise Failure("CSP violations:\n" + "\n".join(violations))
        api.ok("POST", f"/v1/jobs/{running}/cancel")
        print("console test passed", flush=True)
        return 0
    except Failure as failure:
        print(f"console test FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())

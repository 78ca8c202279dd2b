"""The workbench in a real browser: Debian's headless Chromium driven by selenium through Debian's chromedriver,
against a real `ecorules serve` process on a free loopback port.

Why selenium (not raw DevTools): the W3C WebDriver API gives element look-ups, typing, keyboard and waiting
without writing a DevTools client; the driver's path is given explicitly, so selenium-manager never downloads
anything (the network is closed). Downloads are allowed through one DevTools command.

Without chromium / chromedriver / selenium these tests skip with the reason — unless ECORULES_REQUIRE_BROWSER=1
(CI sets it), then they fail. Screenshots of every page are kept under the test's temporary directory.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from ecorules.publish import build_list, render_markdown

from conftest import FIXTURES
from serving import Served

CHROMIUM = os.environ.get("ECORULES_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ECORULES_CHROMEDRIVER", "/usr/bin/chromedriver")
LAUNCH_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000")
DAY = "2025-06-01"


def _missing() -> str:
    import importlib.util
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return ""


def start_chromium(profile: Path, downloads: Path):
    """A headless Chromium with a fresh profile, the closed-network flags, and downloads into `downloads`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in LAUNCH_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    missing = _missing()
    if missing:
        if os.environ.get("ECORULES_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ECORULES_REQUIRE_BROWSER=1 but the browser cannot run: {missing}")
        pytest.skip(f"browser tests need headless Chromium: {missing}")
    server = Served(tmp_path_factory.mktemp("serve"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(served, tmp_path_factory):
    base = tmp_path_factory.mktemp("chromium")
    downloads = base / "downloads"
    downloads.mkdir()
    driver = start_chromium(base / "profile", downloads)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def shot(driver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000
    return path


def downloaded(directory: Path, suffix: str) -> Path:
    def done():
        files = [p for p in directory.iterdir() if p.name.endswith(suffix)]
        return files[0] if files and not any(p.suffix == ".crdownload" for p in directory.iterdir()) else None
    return wait_for(done, what=f"a downloaded *{suffix}")


def test_try_form_submitted_with_the_keyboard_then_a_basis_link(browser, served, default_engine, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    browser.get(served.url + "/try")
    shot(browser, tmp_path, "try-empty")
    title = browser.find_element(By.ID, "title")
    title.click()
    title.send_keys("工地半夜打桩灰尘大")
    title.send_keys(Keys.TAB)                       # keyboard order follows the form: title → district → …
    assert browser.switch_to.active_element.get_attribute("id") == "district"
    browser.switch_to.active_element.send_keys("黄浦区")
    order = []
    for _ in range(5):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        order.append(browser.switch_to.active_element.get_attribute("id"))
    assert order == ["category", "source", "approved_by", "facts", "as_of"]
    browser.find_element(By.ID, "district").send_keys(Keys.ENTER)   # Enter in a field submits the form
    lead = wait_for(lambda: browser.find_elements(By.ID, "lead"), what="the result")[0]
    expected = default_engine.resolve({"id": "x", "title": "工地半夜打桩灰尘大", "district": "黄浦区"})
    assert expected.lead.name in lead.text and expected.lead.id in lead.text
    assert "district=%E9%BB%84%E6%B5%A6%E5%8C%BA" in browser.current_url   # a shareable address
    shot(browser, tmp_path, "try-result")
    for control in browser.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{control.get_attribute('id')}']"), control
    adopted = next(b for b in expected.basis if b.stage == "assign" and b.outcome == "adopted")
    browser.get(served.url + "/rules")                # the index, then back to the result by history
    assert browser.find_elements(By.CSS_SELECTOR, "#article-七 a[href^='/rules/route.']")
    shot(browser, tmp_path, "rules")
    browser.back()
    wait_for(lambda: browser.find_elements(By.ID, "lead"), what="the result again")
    browser.find_element(By.CSS_SELECTOR, f"a.rule-link[href='/rules/{adopted.rule}']").click()
    wait_for(lambda: browser.find_elements(By.ID, "rule-title"), what="the rule page")
    rule = default_engine.rulebook.rules_at[(adopted.file, adopted.line)]
    assert browser.find_element(By.ID, "rule-title").text == rule.title
    assert browser.find_element(By.ID, "rule-cite").text == rule.cite
    assert browser.find_element(By.ID, f"L{rule.line}").text.replace(" ", "").startswith(f"{rule.line}-id:{rule.id}")
    shot(browser, tmp_path, "rule")


def test_department_picture_highlights_the_path(browser, served, default_engine, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(served.url + "/try?title=楼道里有人堆放杂物&district=黄浦区&facts=significant_impact%3Dtrue"
                f"&as_of={DAY}")
    browser.find_element(By.ID, "picture-link").click()
    svg = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#figure svg"), what="the picture")[0]
    expected = default_engine.resolve({"id": "x", "title": "楼道里有人堆放杂物", "district": "黄浦区",
                                       "facts": {"significant_impact": True}, "as_of": DAY})
    for department in expected.escalation.to:
        node = svg.find_element(By.CSS_SELECTOR, f"g[data-node='{department.id}']")
        assert "hl" in node.get_attribute("class").split()
    assert svg.find_elements(By.CSS_SELECTOR, "path.edge.hl")
    assert "上报至" in browser.find_element(By.ID, "matter-summary").text
    shot(browser, tmp_path, "departments")


def test_responsibility_list_downloads(browser, served, default_engine, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(served.url + f"/list?jurisdiction=huangpu&as_of={DAY}")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.status-row")
    assert len(rows) == len(default_engine.rulebook.categories)
    assert browser.find_elements(By.CSS_SELECTOR, "tr.marked .mark")
    shot(browser, tmp_path, "list")
    for path in browser.downloads.iterdir():
        path.unlink()
    browser.find_element(By.CSS_SELECTOR, "a[href*='format=md']").click()
    md = downloaded(browser.downloads, ".md")
    assert md.read_text(encoding="utf-8") == render_markdown(build_list(default_engine, "huangpu",
                                                                        dt.date.fromisoformat(DAY)))


def test_batch_upload_progress_and_results(browser, served, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(served.url + "/batch")
    browser.find_element(By.ID, "file").send_keys(str(FIXTURES / "matters.jsonl"))
    shot(browser, tmp_path, "batch")
    browser.find_element(By.ID, "upload").click()
    wait_for(lambda: browser.find_elements(By.ID, "progress"), what="the job page")
    wait_for(lambda: browser.find_element(By.ID, "job").get_attribute("data-state") == "done", timeout=60,
             what="the job to finish (the page refreshes itself)")
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "100"
    assert "无效" in browser.find_element(By.ID, "summary").text
    shot(browser, tmp_path, "batch-done")
    for path in browser.downloads.iterdir():
        path.unlink()
    browser.find_element(By.ID, "download-results").click()
    results = downloaded(browser.downloads, ".jsonl")
    lines = [line for line in (FIXTURES / "matters.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(results.read_text(encoding="utf-8").splitlines()) == len(lines)   # rows out = rows in


def test_a_bad_upload_is_a_chinese_page(browser, served, tmp_path):
    from selenium.webdriver.common.by import By
    bad = tmp_path / "说明.csv"
    bad.write_text("这不是事项表\n只是一段文字\n", encoding="utf-8")
    browser.get(served.url + "/batch")
    browser.find_element(By.ID, "file").send_keys(str(bad))
    browser.find_element(By.ID, "upload").click()
    alert = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "[role=alert]"), what="the error page")[0]
    assert "找不到表头" in alert.text and "Traceback" not in browser.page_source
    shot(browser, tmp_path, "batch-error")


@pytest.mark.parametrize("required, outcome, code", [("1", "1 error", 1), ("", "1 skipped", 0)])
def test_a_missing_browser_skips_with_a_reason_unless_required(tmp_path, required, outcome, code):
    """Run one browser test in a child pytest with the browser's path pointing nowhere."""
    import subprocess
    import sys
    env = {**os.environ, "ECORULES_CHROMIUM": str(tmp_path / "no-chromium"), "ECORULES_REQUIRE_BROWSER": required}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:xdist", "-p", "no:cacheprovider",
                             f"{__file__}::test_a_bad_upload_is_a_chinese_page"], capture_output=True, text=True,
                            env=env, cwd=Path(__file__).resolve().parent.parent, timeout=300)
    assert outcome in result.stdout and result.returncode == code, result.stdout
    assert "no-chromium not found (apt-get install chromium chromium-driver)" in result.stdout


def test_screenshot_script_launches_chromium_as_the_tests_do():
    import importlib.util
    path = Path(__file__).resolve().parent.parent / "scripts" / "make_screenshots.py"
    spec = importlib.util.spec_from_file_location("make_screenshots", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.LAUNCH_FLAGS == LAUNCH_FLAGS

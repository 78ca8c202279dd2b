#!/usr/bin/env python3
"""Regenerate the README's workbench screenshots (docs/workbench-try.png, docs/workbench-departments.png).

Starts `ecorules serve` on a free loopback port, drives Debian's headless Chromium (selenium + chromedriver, the
same launch flags as tests/test_browser.py) to the 试算 page and the 部门 page with a matter's path highlighted,
and saves PNGs. Needs: apt-get install chromium chromium-driver fonts-wqy-microhei (a CJK font, or the Chinese
text renders as boxes), and pip install '.[test]' (selenium).

    python scripts/make_screenshots.py [--out docs]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

CHROMIUM = os.environ.get("ECORULES_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ECORULES_CHROMEDRIVER", "/usr/bin/chromedriver")
LAUNCH_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000")
TRY = {"title": "工地半夜打桩灰尘大", "district": "黄浦区", "as_of": "2025-06-01"}
PICTURE = {"jurisdiction": "huangpu", "title": "楼道里有人堆放杂物", "facts": "significant_impact=true",
           "as_of": "2025-06-01"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("ecorules serve exited before it was ready")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("ecorules serve did not start")


def chromium(profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in LAUNCH_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def full_page(driver, path: Path, width: int = 1280, max_height: int = 2400) -> None:
    height = min(driver.execute_script("return document.documentElement.scrollHeight"), max_height)
    driver.set_window_size(width, height + 120)   # the window's frame: the viewport is a little smaller
    driver.save_screenshot(str(path))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout if \
        Path("/usr/bin/fc-list").exists() else ""
    if not fonts.strip():
        print("no CJK font: apt-get install fonts-wqy-microhei (Chinese would render as boxes)", file=sys.stderr)
        return 1
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "ecorules", "serve", "--port", str(port), "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(url, server)
        with tempfile.TemporaryDirectory(prefix="ecorules-shots-") as profile:
            driver = chromium(profile)
            try:
                driver.get(f"{url}/try?{urlencode(TRY)}")
                full_page(driver, out / "workbench-try.png")
                driver.set_window_size(1400, 1000)
                driver.get(f"{url}/departments?{urlencode(PICTURE)}")
                from selenium.webdriver.common.by import By
                driver.execute_script("document.querySelector('main').style.maxWidth = 'none';"
                                      "document.querySelector('#figure').style.overflow = 'visible';")
                figure = driver.find_element(By.CSS_SELECTOR, "#figure svg")
                size = figure.size
                driver.set_window_size(max(1400, size["width"] + 120), size["height"] + 700)
                driver.find_element(By.CSS_SELECTOR, "#figure svg").screenshot(str(out / "workbench-departments.png"))
            finally:
                driver.quit()
    finally:
        server.terminate()
        server.wait(30)
    for name in ("workbench-try.png", "workbench-departments.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

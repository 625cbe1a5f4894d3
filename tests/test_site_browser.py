"""The built site in a real browser: Debian's Chromium, headless, through Selenium.

Served on 127.0.0.1 by `http.server`; nothing leaves the machine (Chromium's background
networking, updates and sync are off; Selenium is given the driver, so selenium-manager
downloads nothing). In CI (CI=true) a missing Chromium fails the test; locally it skips.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dlg_bib.library.database import open_workspace
from dlg_bib.render import site
from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "test-artifacts"
PHONE = (390, 844)

pytestmark = pytest.mark.slow


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(REPO / "bib", root / "bib")
    db = open_workspace(root / "bib").db
    site.build_site(db, root / "bib", dt.date(2021, 11, 10), root / "site", handouts=False)
    handler = functools.partial(_QuietHandler, directory=str(root / "site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = f"Chromium and its driver are needed: {CHROMIUM}, {CHROMEDRIVER} (.ci/run)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        f"--window-size={PHONE[0]},{PHONE[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def test_search_finds_attention_and_opens_the_vaswani_page(
    served_site: str, browser: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver: object = browser
    driver.get(served_site + "search.html")  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 30)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".pagefind-ui__search-input")))
    box.send_keys("attention")
    box.send_keys(Keys.RETURN)
    first = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".pagefind-ui__result-link")))
    first.click()
    wait.until(ec.url_contains("/refs/"))
    assert driver.current_url.endswith("/refs/vaswani2017attention.html")  # type: ignore[attr-defined]
    body = driver.find_element(By.TAG_NAME, "main").text  # type: ignore[attr-defined]
    assert "Nov 12, 2021: Attention Is All You Need" in body
    free = driver.find_element(By.CSS_SELECTOR, "a.free-copy")  # type: ignore[attr-defined]
    assert free.get_attribute("href").startswith("https://proceedings.neurips.cc/")
    assert free.is_displayed()


def test_the_index_box_searches_without_typing_twice(served_site: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver: object = browser
    driver.get(served_site)  # type: ignore[attr-defined]
    box = driver.find_element(By.ID, "q")  # type: ignore[attr-defined]
    box.send_keys("attention")
    box.submit()
    link = WebDriverWait(driver, 30).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".pagefind-ui__result-link"))
    )
    assert link.get_attribute("href").endswith("/refs/vaswani2017attention.html")


def test_index_at_phone_width_fits_and_is_saved_as_a_screenshot(
    served_site: str, browser: object
) -> None:
    driver: object = browser
    driver.set_window_size(*PHONE)  # type: ignore[attr-defined]
    driver.get(served_site)  # type: ignore[attr-defined]
    width = driver.execute_script("return document.documentElement.clientWidth")  # type: ignore[attr-defined]
    scroll = driver.execute_script("return document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert scroll <= width, "the index scrolls sideways on a phone"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "site-index-phone.png"
    assert driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.read_bytes().startswith(b"\x89PNG")

"""The exported page in a real browser (Debian's chromium, driven by Selenium): draw with pointer events,
click a test image, and check the page's probabilities against Python's predict_proba; no network."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from linclass import preprocess
from linclass.cli import main
from linclass.prediction import load_run, normalize_digit, to_grayscale

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
MISSING = ("the browser test needs Debian's chromium and chromium-driver (apt-get install chromium "
           "chromium-driver); .ci/run installs them")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync")
CANVAS = 280


@pytest.fixture(scope="module")
def exported(tmp_path_factory, mnist_dir):
    folder = tmp_path_factory.mktemp("browser")
    run = folder / "run"
    assert main(["train", "--model", "softmax", "--epochs", "2", "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(run)]) == 0
    page = folder / "page.html"
    assert main(["export", str(run), "--html", str(page), "--data-dir", str(mnist_dir)]) == 0
    return run, page


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("LINCLASS_REQUIRE_BROWSER"):  # set by .ci/run: CI must run this test
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)  # a hang guard only
    driver.set_window_size(1280, 800)
    yield driver
    driver.quit()


def _page_state(driver) -> tuple[np.ndarray | None, np.ndarray, list[str]]:
    """The page's current 28 x 28 input, the probabilities its bar chart shows, and their visible text."""
    state = driver.execute_script(
        "const rows = [...document.querySelectorAll('.lc-bar-row')];"
        "return {input: window.linclass.input,"
        "        shown: rows.map(r => r.getAttribute('data-probability')),"
        "        text: rows.map(r => r.querySelector('.lc-bar-value').textContent)};")
    pixels = None if state["input"] is None else np.array(state["input"], dtype=np.float64).reshape(1, 28, 28)
    shown = np.array([np.nan if p is None else float(p) for p in state["shown"]])
    return pixels, shown, state["text"]


def _assert_matches_python(driver, model) -> np.ndarray:
    pixels, shown, text = _page_state(driver)
    assert pixels is not None
    expected = model.predict_proba(preprocess(pixels))[0]
    np.testing.assert_allclose(shown, expected, rtol=0, atol=1e-6)
    assert text == [f"{100 * p:.1f} %" for p in expected]
    return pixels


def _stroke(driver, canvas, points, touch: bool = False) -> None:
    """Press at the first point (offsets from the canvas centre in CSS pixels), move through the rest, release."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    kind = interaction.POINTER_TOUCH if touch else interaction.POINTER_MOUSE
    actions = ActionBuilder(driver, mouse=PointerInput(kind, "finger" if touch else "mouse"), duration=20)
    (x, y), rest = points[0], points[1:]
    actions.pointer_action.move_to(canvas, int(x), int(y)).pointer_down()
    for x, y in rest:
        actions.pointer_action.move_to(canvas, int(x), int(y))
    actions.pointer_action.pointer_up()
    actions.perform()


def _wait_for_input(driver, present: bool = True):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: (d.execute_script("return window.linclass.input") is not None) == present)


def test_page_predicts_what_python_predicts(browser, exported, mnist):
    run, page = exported
    _, model = load_run(run)
    text = page.read_text()
    assert page.stat().st_size < 1_000_000
    assert "http://" not in text and "https://" not in text and "<link" not in text and " src=" not in text

    browser.get_log("performance")  # drop what the browser did before the page
    browser.get(page.as_uri())
    assert browser.execute_script("return window.linclass.widgets.length") == 1
    canvas = browser.find_element("css selector", ".lc-canvas")

    # The first test image is shown at start; it is the input exactly as MNIST has it.
    pixels = _assert_matches_python(browser, model)
    np.testing.assert_array_equal(pixels[0], mnist.test_images[mnist.test_labels == 0][0])

    browser.find_element("css selector", ".lc-clear").click()
    _wait_for_input(browser, present=False)
    assert np.isnan(_page_state(browser)[1]).all()

    # A seven with the mouse: the top bar, then the stem.
    _stroke(browser, canvas, [(-70, -90), (-20, -92), (30, -90), (75, -88)])
    _stroke(browser, canvas, [(75, -88), (50, -30), (25, 30), (5, 95)])
    _wait_for_input(browser)
    drawn = _assert_matches_python(browser, model)
    # The page's normalisation is Python's, on the same canvas pixels.
    rgba = np.array(browser.execute_script("return window.linclass.widgets[0].canvasPixels()"), dtype=np.float64)
    gray = to_grayscale(rgba.reshape(CANVAS, CANVAS, 4)[..., :3])
    np.testing.assert_allclose(drawn[0], normalize_digit(gray), rtol=0, atol=1e-9)

    # A finger adds a cross bar: touch pointer events draw too.
    _stroke(browser, canvas, [(10, -10), (40, -10), (70, -12)], touch=True)
    browser.execute_script("window.linclass.widgets[0].update()")
    touched = _assert_matches_python(browser, model)
    assert np.abs(touched - drawn).max() > 0

    # Click a test image: it becomes the input, unchanged.
    samples = browser.find_elements("css selector", ".lc-sample")
    assert len(samples) == 20
    samples[7].click()
    pixels = _assert_matches_python(browser, model)
    labels = mnist.test_labels
    np.testing.assert_array_equal(pixels[0], mnist.test_images[labels == 7][0])

    # No request left the page: only the page itself was loaded.
    entries = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert entries == 0
    requested = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    urls = {m["params"]["request"]["url"] for m in requested if m["method"] == "Network.requestWillBeSent"}
    assert page.as_uri() in urls
    assert not [url for url in urls if url.split(":")[0] in ("http", "https", "ws", "wss", "ftp")], urls
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_page_fits_a_phone(browser, exported):
    _, page = exported
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    try:
        browser.get(page.as_uri())
        width, scroll_width, canvas_width = browser.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth,"
            " document.querySelector('.lc-canvas').getBoundingClientRect().width]")
        assert scroll_width <= width == 390  # nothing sticks out sideways
        assert 200 <= canvas_width <= 280
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_fashion_page_predicts_its_test_images_and_takes_no_drawing(browser, tmp_path, fashion_dir, fashion):
    run, page = tmp_path / "run", tmp_path / "page.html"
    assert main(["train", "--dataset", "fashion-mnist", "--epochs", "1", "--no-progress", "--data-dir",
                 str(fashion_dir), "--out", str(run)]) == 0
    assert main(["export", str(run), "--html", str(page), "--data-dir", str(fashion_dir)]) == 0
    _, model = load_run(run)
    browser.get(page.as_uri())
    labels = [row.find_element("css selector", ".lc-bar-label").text
              for row in browser.find_elements("css selector", ".lc-bar-row")]
    assert labels[0] == "T-shirt/top" and labels[-1] == "Ankle boot"
    assert all(label.text for label in browser.find_elements("css selector", ".lc-bar-label"))
    widths = browser.execute_script(  # every name fits its column: none is cut off
        "return [...document.querySelectorAll('.lc-bar-label')].map(l => [l.scrollWidth, l.clientWidth]);")
    assert all(scroll <= client for scroll, client in widths), widths
    assert browser.find_elements("css selector", ".lc-clear") == []

    samples = browser.find_elements("css selector", ".lc-sample")
    assert len(samples) == 20
    samples[9].click()  # the first Ankle boot: the input is the test image, unchanged
    pixels = _assert_matches_python(browser, model)
    np.testing.assert_array_equal(pixels[0], fashion.test_images[fashion.test_labels == 9][0])
    assert "for a test image labelled Ankle boot." in browser.find_element("css selector", ".lc-status").text

    # Strokes on the input area change nothing: this page takes test images only.
    _stroke(browser, browser.find_element("css selector", ".lc-canvas"), [(-50, -50), (40, 40)])
    again, _, _ = _page_state(browser)
    np.testing.assert_array_equal(again, pixels)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

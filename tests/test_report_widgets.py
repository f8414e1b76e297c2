"""Task 4's linked drawing widgets in report.html, in a real browser: one drawing, two models, each
showing what Python's predict_proba gives for the same 28 x 28 input; nothing fetched."""

from __future__ import annotations

import numpy as np
import pytest
from test_export_browser import _stroke, browser  # noqa: F401  (the browser fixture)

from linclass import preprocess
from linclass.cli import main
from linclass.prediction import load_run


@pytest.fixture(scope="module")
def report(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("widgets") / "out"
    assert main(["reproduce", "--only", "task3,task4", "--max-epochs-override", "1", "--no-progress",
                 "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    return out


def _widget_states(driver) -> list[tuple[np.ndarray, np.ndarray]]:
    """(input (1, 28, 28), probabilities shown (10,)) of each widget on the page."""
    states = driver.execute_script(
        "return window.linclass.widgets.map(w => ({input: w.input, probs: w.probabilities}));")
    return [(np.array(s["input"], dtype=np.float64).reshape(1, 28, 28), np.array(s["probs"], dtype=np.float64))
            for s in states]


def _wait_for_widgets(driver, count: int) -> None:
    """Until the page has started `count` widgets (a hang guard of 30 s, not a speed requirement); on a
    timeout the assertion names what the page has and what its console said."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    script = "return window.linclass ? window.linclass.widgets.length : -1"
    try:
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(script) == count)
    except TimeoutException:
        console = [entry["message"] for entry in driver.get_log("browser")]
        raise AssertionError(f"{driver.execute_script(script)} widgets started, not {count}; console: {console}")


def test_one_drawing_is_judged_by_both_models(browser, report, mnist):  # noqa: F811
    html = (report / "report.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html  # phones lay it out at their width
    assert "Open report.html in a browser" in (report / "report.md").read_text()
    models = [load_run(report / "runs" / name)[1] for name in ("task3_softmax_lambda_0", "task4_softmax_lambda_1")]

    browser.get((report / "report.html").as_uri())
    _wait_for_widgets(browser, 2)
    canvases = browser.find_elements("css selector", ".lc-pair .lc-canvas")
    browser.execute_script("arguments[0].scrollIntoView()", canvases[0])
    browser.find_elements("css selector", ".lc-pair .lc-clear")[0].click()
    _stroke(browser, canvases[0], [(-70, -90), (-20, -92), (30, -90), (75, -88)])
    _stroke(browser, canvases[0], [(75, -88), (50, -30), (25, 30), (5, 95)])
    browser.execute_script("window.linclass.widgets[0].update()")

    (first_input, first_probs), (second_input, second_probs) = _widget_states(browser)
    np.testing.assert_array_equal(first_input, second_input)  # the drawing reached the other model
    np.testing.assert_allclose(first_probs, models[0].predict_proba(preprocess(first_input))[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(second_probs, models[1].predict_proba(preprocess(first_input))[0], rtol=0, atol=1e-6)
    assert not np.allclose(first_probs, second_probs)  # two different models

    # A test image clicked in the second widget becomes the input of both, unchanged.
    browser.find_elements("css selector", "#lc-lambda-1 .lc-sample")[3].click()
    (first_input, _), (second_input, _) = _widget_states(browser)
    expected = mnist.test_images[mnist.test_labels == 3][0]
    np.testing.assert_array_equal(first_input[0], expected)
    np.testing.assert_array_equal(second_input[0], expected)
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_fashion_report_links_two_models_on_a_clicked_test_image(browser, tmp_path, fashion_dir, fashion):  # noqa: F811
    out = tmp_path / "out"
    assert main(["reproduce", "--dataset", "fashion-mnist", "--only", "task3,task4", "--max-epochs-override", "1",
                 "--no-progress", "--data-dir", str(fashion_dir), "--out", str(out)]) == 0
    assert "Click a test image below: both models" in (out / "report.html").read_text()
    models = [load_run(out / "runs" / name)[1] for name in ("task3_softmax_lambda_0", "task4_softmax_lambda_1")]
    browser.get((out / "report.html").as_uri())
    _wait_for_widgets(browser, 2)
    assert browser.find_elements("css selector", ".lc-pair .lc-clear") == []  # nothing to draw or clear
    sample = browser.find_elements("css selector", "#lc-lambda-1 .lc-sample")[6]
    browser.execute_script("arguments[0].scrollIntoView()", sample)
    sample.click()
    expected = fashion.test_images[fashion.test_labels == 6][0]  # the first Shirt
    for (image, probs), model in zip(_widget_states(browser), models):
        np.testing.assert_array_equal(image[0], expected)
        np.testing.assert_allclose(probs, model.predict_proba(preprocess(image))[0], rtol=0, atol=1e-6)
    labels = browser.execute_script("return [...document.querySelectorAll('#lc-lambda-0 .lc-bar-label')]"
                                    ".map(l => l.textContent);")
    assert labels == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"]

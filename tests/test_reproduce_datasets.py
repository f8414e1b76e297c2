"""linclass reproduce on Fashion-MNIST and under the holdout protocol (reduced configuration): class names
instead of digits, the pair and the baseline in the report, test accuracies next to validation ones."""

from __future__ import annotations

import json
import re

from linclass.cli import main


def _reproduce(out, fashion_dir, *options) -> dict:
    assert main(["reproduce", "--out", str(out), "--data-dir", str(fashion_dir), "--no-progress",
                 "--dataset", "fashion-mnist", "--max-epochs-override", "1", *options]) == 0
    return json.loads((out / "summary.json").read_text())


def test_fashion_report_names_classes_and_compares_with_the_baseline(fashion_dir, tmp_path):
    out = tmp_path / "fashion"
    summary = _reproduce(out, fashion_dir, "--only", "task2,task3", "--protocol", "holdout")
    data = summary["dataset"]
    assert (data["name"], data["protocol"], data["pair"]["labels"]) == ("fashion-mnist", "holdout",
                                                                         ["Shirt", "T-shirt/top"])
    assert data["published_logistic_test_accuracy"] == 0.84
    assert summary["task3"]["config"]["dataset"] == "fashion-mnist" and "classes" not in summary["task3"]["config"]
    assert summary["task2"]["no_shuffle"]["config"]["classes"] == [6, 0]
    report = (out / "report.md").read_text()
    assert "Task 2: logistic regression, Shirt vs T-shirt/top" in report
    assert not re.search(r"\bdigits?\b|2s and 3s|MNIST test set", report.replace("Fashion-MNIST", "")), report
    assert "Comparison with the published baseline" in report and "84.0 %" in report
    assert summary["against_original"] is None and "Against the original report" not in report  # no dead link
    test = summary["task3"]["test"]["test_accuracy"]
    assert f"reaches a test accuracy of {test:.4f}" in report
    assert "test accuracy (held out)" in report and f"{summary['task2']['no_shuffle']['test']['test_accuracy']:.4f}" in report
    assert "--dataset fashion-mnist --protocol holdout" in summary["environment"]["command"]
    runs = json.loads((out / "runs" / "task3_softmax_lambda_0" / "metrics.json").read_text())
    assert runs["test"]["n_test_images"] == 10000

"""Export a trained model as an interactive, self-contained HTML page (or a widget fragment to embed)."""

from .page import INTRO, MAX_BYTES, check_destination, page_html, run_page, write_page
from .widget import model_data, pick_samples, widget_html

__all__ = ["INTRO", "MAX_BYTES", "check_destination", "model_data", "page_html", "pick_samples", "run_page", "widget_html", "write_page"]

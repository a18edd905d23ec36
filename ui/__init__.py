"""The chat UI of the guideline assistant (``assistant serve``).

:mod:`ui.render` turns answers into HTML and Markdown, :mod:`ui.handlers` answers the page's
events, :mod:`ui.app` lays out the page and :mod:`ui.serve` serves it.
"""

import os

# Before gradio is imported: no telemetry, no version check, no model hub.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

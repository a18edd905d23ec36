"""The chat UI of the guideline assistant (``assistant serve``); see :mod:`ui.app`."""

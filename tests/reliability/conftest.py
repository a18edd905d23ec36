"""Fixtures of the reliability probes: the chat page served over the session's assistant."""

from __future__ import annotations

import pytest
import reliability_helpers as h


@pytest.fixture(scope="session")
def page_url(bot):
    """``create_app(bot)`` served on a free loopback port (only its public HTTP API is used)."""
    from ui.app import create_app

    app = create_app(bot)
    url = h.serve(app)
    yield url
    app.close()

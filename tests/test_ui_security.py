"""The server's guard: the login throttle (fake clock), upload refusal and the image policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui.security import (
    CONTENT_SECURITY_POLICY,
    Guard,
    LoginThrottle,
    LoginThrottleSettings,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


SETTINGS = LoginThrottleSettings(
    max_failures=3, window_s=60, lockout_s=10, max_lockout_s=25, max_clients=100
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock) -> LoginThrottle:
    return LoginThrottle(SETTINGS, clock=clock)


def fail(throttle: LoginThrottle, client: str, times: int) -> float:
    return [throttle.failure(client) for _ in range(times)][-1]


def test_locks_out_after_max_failures_then_lets_the_client_try_again(throttle, clock):
    assert fail(throttle, "a", 2) == 0
    assert throttle.wait("a") == 0
    assert throttle.failure("a") == 10  # the third failure starts a lockout
    assert throttle.wait("a") == 10
    clock.advance(4)
    assert throttle.wait("a") == pytest.approx(6)
    clock.advance(6)
    assert throttle.wait("a") == 0


def test_each_further_lockout_doubles_up_to_the_cap(throttle, clock):
    lockouts = []
    for _ in range(4):
        lockouts.append(fail(throttle, "a", 3))
        clock.advance(throttle.wait("a"))
    assert lockouts == [10, 20, 25, 25]


def test_clients_are_counted_apart(throttle):
    fail(throttle, "a", 3)
    assert throttle.wait("a") > 0
    assert throttle.wait("b") == 0
    assert throttle.failure("b") == 0


def test_a_success_forgets_the_failures(throttle):
    fail(throttle, "a", 2)
    throttle.success("a")
    assert fail(throttle, "a", 2) == 0
    assert throttle.wait("a") == 0


def test_failures_older_than_the_window_do_not_count(throttle, clock):
    fail(throttle, "a", 2)
    clock.advance(61)
    assert fail(throttle, "a", 2) == 0
    assert throttle.failure("a") == 10


def test_a_quiet_window_after_a_lockout_resets_the_doubling(throttle, clock):
    assert fail(throttle, "a", 3) == 10
    clock.advance(10 + 61)
    assert fail(throttle, "a", 3) == 10
    assert len(throttle) == 1


def test_remembers_at_most_max_clients(clock):
    throttle = LoginThrottle(SETTINGS.model_copy(update={"max_clients": 2}), clock=clock)
    for client in ("a", "b", "c"):
        throttle.failure(client)
    assert len(throttle) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"max_failures": 0},
        {"window_s": 0},
        {"lockout_s": -1},
        {"lockout_s": 100, "max_lockout_s": 10},
        {"max_clients": 0},
        {"retries": 3},
    ],
)
def test_settings_reject_bad_values(bad):
    with pytest.raises(ValidationError):
        LoginThrottleSettings(**bad)


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_UI_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("ASSISTANT_UI_LOGIN_LOCKOUT_S", "2.5")
    s = LoginThrottleSettings.from_env()
    assert (s.max_failures, s.lockout_s, s.window_s) == (7, 2.5, 900.0)
    monkeypatch.setenv("ASSISTANT_UI_LOGIN_WINDOW_S", "soon")
    with pytest.raises(ValueError, match="ASSISTANT_UI_LOGIN_WINDOW_S: Input should be"):
        LoginThrottleSettings.from_env()


def test_every_field_is_described():
    for name, f in LoginThrottleSettings.model_fields.items():
        assert f.description, name


# --- the middleware over a tiny app that stands in for Gradio ------------------------------------


async def _login(request: Request):
    form = await request.form()
    if form.get("password") == "right":
        return JSONResponse({"success": True})
    return JSONResponse({"detail": "Incorrect credentials."}, status_code=400)


async def _upload(request: Request):
    return JSONResponse(["/tmp/stored"])


def _app(throttle=None):
    routes = [
        Route("/login", _login, methods=["POST"]),
        Route("/gradio_api/upload", _upload, methods=["POST"]),
        Route("/", lambda request: PlainTextResponse("page")),
    ]
    return Guard(Starlette(routes=routes), throttle=throttle)


def _client(app, host: str = "10.0.0.1") -> TestClient:
    return TestClient(app, client=(host, 50000))


def test_guard_throttles_logins_per_client(throttle):
    app = _app(throttle)
    a, b = _client(app, "10.0.0.1"), _client(app, "10.0.0.2")
    codes = [a.post("/login", data={"username": "u", "password": "x"}).status_code for _ in "xyz"]
    assert codes == [400, 400, 400]
    locked = a.post("/login", data={"username": "u", "password": "right"})
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "10"
    assert "Too many failed logins" in locked.json()["detail"]
    assert b.post("/login", data={"username": "u", "password": "right"}).status_code == 200


def test_guard_counts_a_good_login_as_a_success(throttle):
    app = _app(throttle)
    a = _client(app)
    for _ in range(5):  # more than max_failures, each followed by a good login
        a.post("/login", data={"username": "u", "password": "x"})
        assert a.post("/login", data={"username": "u", "password": "right"}).status_code == 200
    assert len(throttle) == 0


@pytest.mark.parametrize(
    "path", ["/gradio_api/upload", "/gradio_api/upload/", "/gradio_api//upload"]
)
def test_guard_refuses_uploads(path):
    response = _client(_app()).post(path, files={"files": ("a.txt", b"hello")})
    assert response.status_code == 403
    assert "uploads are turned off" in response.text


def test_guard_sets_the_image_policy_on_every_response():
    client = _client(_app())
    for response in (client.get("/"), client.post("/gradio_api/upload")):
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "img-src 'self'" in CONTENT_SECURITY_POLICY


def test_guard_without_a_throttle_leaves_logins_alone():
    client = _client(_app())
    codes = {client.post("/login", data={"password": "x"}).status_code for _ in range(10)}
    assert codes == {400}

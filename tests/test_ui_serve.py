"""Serving: where the login comes from, and a served page (over a fake assistant) that refuses
uploads and slows password guessing."""

from __future__ import annotations

import argparse
import os

import httpx
import pytest

try:
    import ui_conftest_helpers as h
except ImportError:  # tests/ became a package
    from tests import ui_conftest_helpers as h

from ui.security import LoginThrottleSettings
from ui.serve import main, parse_auth, read_auth_file, resolve_auth


def args(**values) -> argparse.Namespace:
    base = {"host": None, "port": None, "auth": None, "auth_file": None}
    return argparse.Namespace(**{**base, **values})


@pytest.fixture
def auth_file(tmp_path):
    path = tmp_path / "ui-auth"
    path.write_text("\nclinic:a long passphrase \n\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("bad", ["clinic", ":pw", "clinic:", "clinicpw"])
def test_parse_auth_rejects_bad_logins(bad):
    with pytest.raises(ValueError, match="user:password"):
        parse_auth(bad)


def test_parse_auth_keeps_colons_in_the_password():
    assert parse_auth("clinic:a:b") == ("clinic", "a:b")
    assert parse_auth("") is None


def test_the_auth_file_holds_one_line(auth_file, capsys):
    assert read_auth_file(auth_file) == "clinic:a long passphrase"
    assert capsys.readouterr().err == ""


def test_an_auth_file_others_can_read_gets_a_warning(auth_file, capsys):
    auth_file.chmod(0o644)
    read_auth_file(auth_file)
    assert "chmod 600" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "expected"),
    [("", "one line"), ("a:b\nc:d\n", "one line"), (b"\xff\xfe", "UTF-8")],
)
def test_bad_auth_files_are_clear_errors(tmp_path, content, expected):
    path = tmp_path / "auth"
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    with pytest.raises(ValueError, match=expected):
        read_auth_file(path)


def test_a_missing_auth_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the auth file"):
        read_auth_file(tmp_path / "nope")


def test_the_login_comes_from_the_command_line_first(auth_file, monkeypatch):
    assert resolve_auth(args()) is None
    monkeypatch.setenv("ASSISTANT_UI_AUTH_FILE", str(auth_file))
    assert resolve_auth(args()) == "clinic:a long passphrase"
    monkeypatch.setenv("ASSISTANT_UI_AUTH", "env:pw")
    with pytest.raises(ValueError, match="not both"):
        resolve_auth(args())
    monkeypatch.delenv("ASSISTANT_UI_AUTH_FILE")
    assert resolve_auth(args()) == "env:pw"
    assert resolve_auth(args(auth_file=str(auth_file))) == "clinic:a long passphrase"
    assert resolve_auth(args(auth="cli:pw")) == "cli:pw"
    with pytest.raises(ValueError, match="not both"):
        resolve_auth(args(auth="cli:pw", auth_file=str(auth_file)))


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        ({"auth_file": "/nonexistent/ui-auth"}, {}, "cannot read the auth file"),
        ({"auth": "nocolon"}, {}, "user:password"),
        ({}, {"ASSISTANT_UI_LOGIN_MAX_FAILURES": "0"}, "ASSISTANT_UI_LOGIN_MAX_FAILURES"),
    ],
)
def test_serve_stops_on_a_bad_login_setting_before_loading(
    monkeypatch, capsys, given, env, expected
):
    import assistant

    monkeypatch.setattr(assistant.Assistant, "load", lambda **_: pytest.fail("loaded"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args(**given)) == 2
    assert expected in capsys.readouterr().err


def test_serve_warns_that_auth_on_the_command_line_is_visible(monkeypatch, capsys):
    import assistant

    monkeypatch.setattr(assistant.Assistant, "load", lambda **_: pytest.fail("loaded"))
    main(args(auth="nocolon"))
    assert "ps" in capsys.readouterr().err


# --- a served page with a login ---------------------------------------------------------------

PASSWORD = "a long passphrase"


@pytest.fixture(scope="module")
def guarded():
    settings = LoginThrottleSettings(max_failures=3, lockout_s=60, max_lockout_s=60)
    server = h.start(h.EchoBot(), auth=f"clinic:{PASSWORD}", login_throttle=settings)
    yield server
    server.app.close()


def login(url: str, password: str, client_ip: str) -> httpx.Response:
    # The server trusts X-Forwarded-For from loopback (a local reverse proxy), so each test
    # can be its own client.
    return httpx.post(
        url + "login",
        data={"username": "clinic", "password": password},
        headers={"X-Forwarded-For": client_ip},
    )


def test_failed_logins_lock_the_client_out(guarded):
    codes = [login(guarded.url, "guess", "10.1.0.1").status_code for _ in range(3)]
    assert codes == [400, 400, 400]
    locked = login(guarded.url, PASSWORD, "10.1.0.1")
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 60
    assert login(guarded.url, PASSWORD, "10.1.0.2").status_code == 200  # another client


def test_upload_is_refused_even_after_a_login(guarded):
    with httpx.Client(base_url=guarded.url, headers={"X-Forwarded-For": "10.1.0.3"}) as client:
        assert client.post("login", data={"username": "clinic", "password": PASSWORD}).is_success
        assert client.get("config").status_code == 200  # logged in
        response = client.post("gradio_api/upload", files={"files": ("a.txt", b"hello")})
    assert response.status_code == 403


def test_the_login_is_required(guarded):
    assert httpx.get(guarded.url + "config").status_code == 401
    assert os.environ.get("ASSISTANT_UI_AUTH") is None

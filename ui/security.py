"""What the server refuses: file uploads, off-site images, and too many failed logins per client.

:class:`Guard` is ASGI middleware around Gradio's app; :func:`ui.serve.launch` installs it.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.responses import JSONResponse, PlainTextResponse

log = logging.getLogger(__name__)

# Gradio's routes for storing a file on the server (and following an upload's progress).
UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/upload_progress")
# Images and media only from this server (or inline data); nothing a message names elsewhere.
CONTENT_SECURITY_POLICY = "img-src 'self' data: blob:; media-src 'self' data: blob:"
_POLICY = CONTENT_SECURITY_POLICY.encode()
UPLOADS_OFF = "File uploads are turned off on this server."
ENV_PREFIX = "ASSISTANT_UI_LOGIN_"


class LoginThrottleSettings(BaseModel):
    """How failed logins are limited, per client address.

    Each field reads ``ASSISTANT_UI_LOGIN_<FIELD>`` from the environment (``from_env``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_failures: int = Field(
        default=5, ge=1, le=1000, description="failed logins within `window_s` before a lockout"
    )
    window_s: float = Field(
        default=900.0, gt=0, description="seconds over which failed logins are counted"
    )
    lockout_s: float = Field(
        default=30.0, gt=0, description="the first lockout, in seconds; each further one doubles"
    )
    max_lockout_s: float = Field(
        default=3600.0, gt=0, description="the longest lockout, in seconds"
    )
    max_clients: int = Field(
        default=10_000, ge=1, description="clients remembered at once; the longest idle go first"
    )

    @model_validator(mode="after")
    def _cap_not_below_first(self) -> LoginThrottleSettings:
        if self.max_lockout_s < self.lockout_s:
            raise ValueError("max_lockout_s must be at least lockout_s")
        return self

    @classmethod
    def from_env(cls) -> LoginThrottleSettings:
        """Defaults, overridden by any ``ASSISTANT_UI_LOGIN_*`` variable that is set.

        Bad values raise one ``ValueError`` naming the variables.
        """
        values = {
            name: raw
            for name in cls.model_fields
            if (raw := os.environ.get(f"{ENV_PREFIX}{name.upper()}")) not in (None, "")
        }
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = [
                f"{ENV_PREFIX}{'_'.join(map(str, e['loc'])).upper() or '*'}: {e['msg']}"
                for e in exc.errors()
            ]
            raise ValueError("; ".join(problems)) from None


@dataclass
class _Client:
    failures: list[float] = field(default_factory=list)  # times, within the window
    lockouts: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    """Counts failed logins per client; after ``max_failures`` within ``window_s`` it locks the
    client out for ``lockout_s``, doubling with each further lockout up to ``max_lockout_s``.

    A success forgets the client; so does ``window_s`` of quiet after its last lockout ends.
    ``clock`` returns seconds (``time.monotonic`` unless a test passes a fake).
    """

    def __init__(
        self,
        settings: LoginThrottleSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings or LoginThrottleSettings()
        self._clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds before ``client`` may try again; 0 when it may try now."""
        with self._lock:
            now = self._clock()
            record = self._record(client, now, create=False)
            return max(0.0, record.locked_until - now) if record else 0.0

    def failure(self, client: str) -> float:
        """Count one failed login; returns the lockout it started (0 when none)."""
        s = self.settings
        with self._lock:
            now = self._clock()
            record = self._record(client, now, create=True)
            record.failures = [t for t in record.failures if t > now - s.window_s] + [now]
            record.last = now
            if len(record.failures) < s.max_failures:
                return 0.0
            record.lockouts += 1
            record.failures.clear()
            lockout = min(s.lockout_s * 2.0 ** min(record.lockouts - 1, 60), s.max_lockout_s)
            record.locked_until = now + lockout
        log.warning("login: %s locked out for %.0f s after failed logins", client, lockout)
        return lockout

    def success(self, client: str) -> None:
        """A good login: forget the client's failures."""
        with self._lock:
            self._clients.pop(client, None)

    def __len__(self) -> int:
        return len(self._clients)

    def _record(self, client: str, now: float, *, create: bool) -> _Client | None:
        record = self._clients.get(client)
        if record and now - max(record.last, record.locked_until) > self.settings.window_s:
            del self._clients[client]  # quiet for a whole window since its last failure or lock
            record = None
        if record is None:
            if not create:
                return None
            record = self._clients[client] = _Client()
            while len(self._clients) > self.settings.max_clients:
                self._clients.popitem(last=False)
        self._clients.move_to_end(client)
        return record


def _path(scope) -> str:
    return re.sub("/{2,}", "/", scope.get("path") or "/").rstrip("/") or "/"


class Guard:
    """ASGI middleware: no uploads, a Content-Security-Policy on every response, and (with a
    throttle) failed logins limited per client address.

    Every login attempt counts as a failure until the app answers it with success, so guesses
    sent in parallel are counted too. A locked-out client gets 429 with ``Retry-After``.
    """

    def __init__(self, app, throttle: LoginThrottle | None = None):
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"content-security-policy", _POLICY)]
                message = {**message, "headers": headers}
            await send(message)

        path = _path(scope)
        if path.endswith(UPLOAD_PATHS):
            await PlainTextResponse(UPLOADS_OFF, status_code=403)(scope, receive, send_with_policy)
            return
        if self.throttle is None or scope["method"] != "POST" or not path.endswith("/login"):
            await self.app(scope, receive, send_with_policy)
            return
        await self._login(scope, receive, send_with_policy)

    async def _login(self, scope, receive, send):
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.wait(client)
        if wait > 0:
            seconds = math.ceil(wait)
            response = JSONResponse(
                {"detail": f"Too many failed logins. Try again in {seconds} seconds."},
                status_code=429,
                headers={"Retry-After": str(seconds)},
            )
            await response(scope, receive, send)
            return
        self.throttle.failure(client)
        status = {}

        async def send_and_watch(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, send_and_watch)
        if status.get("code") == 200:
            self.throttle.success(client)

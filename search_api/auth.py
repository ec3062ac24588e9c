"""Write access: how the token may be sent, and what wrong guesses cost.

Accepted: `Authorization: Bearer TOKEN` (the scheme in any case) or `X-PolicyKB-Token: TOKEN`. A token
without a scheme in Authorization is refused: it is another scheme's credentials or a mistake, and
taking it would teach clients to send the secret where proxies log it. The comparison takes constant
time. A client (by address) that fails `max_failures` times within `window` seconds is locked out for
`lockout` seconds: every write from it is refused with 429, even with the right token, so guessing is
bounded at `max_failures` per window. Every failure is logged with the client and the reason, never
with what was sent.
"""

from __future__ import annotations

import collections
import hmac
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

from pydantic import SecretStr

logger = logging.getLogger(__name__)
_TRACKED_CLIENTS = 10_000  # failure histories kept at most; the oldest go first


@dataclass(frozen=True)
class Refusal:
    """Why a write is refused, as the error shape says it."""

    status: int
    code: str
    message: str
    headers: Mapping[str, str]


_READ_ONLY = Refusal(403, "forbidden", "服务为只读：没有配置写入令牌（设置 POLICYKB_TOKEN 后重启服务）", {})
_UNAUTHORIZED = Refusal(401, "unauthorized", "需要有效的写入令牌（请求头 Authorization: Bearer …，或 X-PolicyKB-Token）",
                        {"WWW-Authenticate": "Bearer"})


def token_from_headers(headers: Mapping[str, str]) -> str | None:
    """The token a request carries (header names in lower case); "" for an Authorization without Bearer."""
    if given := headers.get("x-policykb-token"):
        return given.strip()
    authorization = headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


class TokenGate:
    """Checks the token and counts failures per client; safe to share between threads."""

    def __init__(self, token: SecretStr | None, max_failures: int, window: float, lockout: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._token = token.get_secret_value().encode() if token else None
        self.max_failures, self.window, self.lockout, self._clock = max_failures, window, lockout, clock
        self._failures: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def refusal(self, given: str | None, client: str, what: str) -> Refusal | None:
        """None when `given` is the token and `client` is not locked out; else why not (`what` is logged)."""
        if self._token is None:
            return _READ_ONLY
        if locked := self.lockout_refusal(client):
            return locked
        if given and hmac.compare_digest(given.encode(), self._token):
            return None
        reason = "no token" if given is None else "token without Bearer scheme" if given == "" else "wrong token"
        return self._fail(client, reason, what)

    def lockout_refusal(self, client: str) -> Refusal | None:
        with self._lock:
            remaining = self._locked_until.get(client, 0.0) - self._clock()
            if remaining <= 0:
                self._locked_until.pop(client, None)
                return None
        seconds = math.ceil(remaining)
        return Refusal(429, "too_many_attempts", f"令牌错误次数过多，这个客户端已被锁定；请 {seconds} 秒后再试",
                       {"Retry-After": str(seconds)})

    def _fail(self, client: str, reason: str, what: str) -> Refusal:
        now = self._clock()
        with self._lock:
            history = self._failures.pop(client, collections.deque())
            history.append(now)
            while history and history[0] <= now - self.window:
                history.popleft()
            self._failures[client] = history
            if len(self._failures) > _TRACKED_CLIENTS:
                self._failures.popitem(last=False)
            locked = len(history) >= self.max_failures
            if locked:
                self._locked_until[client] = now + self.lockout
                self._failures.pop(client)
                if len(self._locked_until) > _TRACKED_CLIENTS:
                    self._locked_until = {key: until for key, until in self._locked_until.items() if until > now}
        logger.warning("write refused: %s from %s (%s)%s", reason, client, what,
                       f"; locked out for {self.lockout:g} s" if locked else "")
        return _UNAUTHORIZED

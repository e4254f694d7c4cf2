"""Who is calling: API tokens and session cookies, checked from memory.

The cache holds every live token hash, user and session; it reloads when the log shows an
account event (so a revocation by the command line, or on another node, takes effect at
once) and when this server starts or ends a session. A session cookie it has not seen
(started on another node) costs one reload, then answers from memory.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from actors import Caller
from actors.events import ACCOUNT_EVENT_TYPES
from eventlog import AccountStore, Credentials, RecordedEvent, Unauthorized

SESSION_COOKIE = "snag_session"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class CredentialCache:
    """Thread-safe: the tailer thread reloads it, request handlers read it."""

    def __init__(self, accounts: AccountStore) -> None:
        self._accounts = accounts
        self._lock = threading.Lock()
        self._credentials = accounts.credentials()
        self._misses: dict[str, float] = {}

    def reload(self) -> None:
        fresh = self._accounts.credentials()
        with self._lock:
            self._credentials = fresh

    def on_events(self, events: Sequence[RecordedEvent]) -> None:
        """A log subscriber: runs on the tailer's thread."""
        if any(e.type in ACCOUNT_EVENT_TYPES for e in events):
            self.reload()

    @property
    def current(self) -> Credentials:
        with self._lock:
            return self._credentials

    def _caller(self, name: str) -> Caller:
        role, active = self.current.users.get(name, ("", False))
        if not active:
            raise Unauthorized("this user has been revoked")
        return Caller(name, role)

    def by_token(self, token: str) -> Caller:
        name = self.current.tokens.get(secret_hash(token))
        if name is None:
            raise Unauthorized("the API token is not valid or has been revoked")
        return self._caller(name)

    def by_session(self, cookie: str) -> tuple[Caller, str]:
        """The caller and the session's CSRF token."""
        digest = secret_hash(cookie)
        session = self.current.sessions.get(digest)
        if session is None and self._may_reload(digest):
            self.reload()
            session = self.current.sessions.get(digest)
        if session is None or session[2] <= datetime.now(UTC):
            raise Unauthorized("the session has ended; log in again")
        return self._caller(session[0]), session[1]

    def _may_reload(self, digest: str) -> bool:
        # One reload per unknown cookie a minute, so a flood of made-up cookies cannot
        # turn into a query per request.
        now = time.monotonic()
        with self._lock:
            if len(self._misses) > 10_000:
                self._misses.clear()
            if now - self._misses.get(digest, -60.0) < 60.0:
                return False
            self._misses[digest] = now
            return True

    def assignable(self, name: str) -> bool:
        role, active = self.current.users.get(name, ("", False))
        return active and role in ("agent", "admin")

    @staticmethod
    def csrf_matches(expected: str, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(expected, given)

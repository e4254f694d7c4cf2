"""Who is calling: API tokens and session cookies, checked from memory.

The cache holds every live token hash, user and session; it reloads when the log shows an
account event (so a revocation by the command line, or on another node, takes effect at
once) and when this server starts or ends a session. If that reload fails, the cache is
stale and every check reloads first, failing closed (503) until the database answers. A
session cookie it has not seen (started on another node) costs one small query, at most
`MISS_LOOKUPS` a second in all, then answers from memory.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from actors import Caller
from actors.events import ACCOUNT_EVENT_TYPES
from eventlog import AccountStore, Credentials, DatabaseUnavailable, RecordedEvent, Unauthorized

logger = logging.getLogger(__name__)

SESSION_COOKIE = "snag_session"
MISS_LOOKUPS = 20
"""Unknown session cookies looked up in the database per second, at most."""


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class CredentialCache:
    """Thread-safe: the tailer thread reloads it, request handlers read it."""

    def __init__(self, accounts: AccountStore) -> None:
        self._accounts = accounts
        self._lock = threading.Lock()
        self._reloading = threading.Lock()
        self._credentials = accounts.credentials()
        self._stale = False
        self._misses: dict[str, float] = {}
        self._miss_window = (0.0, 0)

    def reload(self) -> None:
        # Critical section: fetch and assign under one lock, so a slow reload that began
        # before a revocation can never replace a newer snapshot taken after it.
        with self._reloading:
            fresh = self._accounts.credentials()
            with self._lock:
                self._credentials = fresh
                self._stale = False

    def on_events(self, events: Sequence[RecordedEvent]) -> None:
        """A log subscriber: runs on the tailer's thread."""
        if any(e.type in ACCOUNT_EVENT_TYPES for e in events):
            try:
                self.reload()
            except DatabaseUnavailable:
                logger.warning("credentials are stale until the database answers")
                with self._lock:
                    self._stale = True

    @property
    def current(self) -> Credentials:
        with self._lock:
            stale = self._stale
        if stale:
            self.reload()  # DatabaseUnavailable: better a 503 than a revoked token let in
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
        if session is None and self._may_look_up(digest):
            session = self._accounts.session(digest)
            if session is not None:
                with self._lock:
                    self._credentials.sessions[digest] = session
        if session is None or session[2] <= datetime.now(UTC):
            raise Unauthorized("the session has ended; log in again")
        return self._caller(session[0]), session[1]

    def _may_look_up(self, digest: str) -> bool:
        # One look-up per unknown cookie a minute and MISS_LOOKUPS a second in all, so a
        # flood of made-up cookies cannot turn into a query per request.
        now = time.monotonic()
        with self._lock:
            second, count = self._miss_window
            if now - second >= 1.0:
                second, count = now, 0
            if count >= MISS_LOOKUPS:
                return False
            if len(self._misses) > 10_000:
                self._misses.clear()
            if now - self._misses.get(digest, -60.0) < 60.0:
                return False
            self._misses[digest] = now
            self._miss_window = (second, count + 1)
            return True

    def assignable(self, name: str) -> bool:
        """From the snapshot as it is, never reloading: the event loop calls this."""
        with self._lock:
            role, active = self._credentials.users.get(name, ("", False))
        return active and role in ("agent", "admin")

    @staticmethod
    def csrf_matches(expected: str, given: str | None) -> bool:
        return given is not None and given.isascii() and hmac.compare_digest(expected, given)

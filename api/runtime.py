"""Everything a running Snag server holds, built on start and closed on shutdown."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from actors import Helpdesk, TicketRegistry
from actors.queue_view import Apply, Candidates, Describe, QueueViewActor
from api.accounts import AccountService
from api.auth import CredentialCache
from api.hub import Hub
from eventlog import AccountStore, DatabaseUnavailable, EventStore, LogTailer, migrate, open_pool

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    idle_timeout: float = 600.0
    """Seconds a ticket actor lives without a message before it is passivated."""
    command_timeout: float = 10.0
    """Seconds a request waits for its ticket's answer before `outcome_unknown`."""
    pool_size: int = 10
    resume_window: int = 10_000
    """How many recent changes a reconnecting stream can resume from, in RAM."""
    send_timeout: float = 10.0
    """Seconds one write to a live stream may take before that client is dropped."""
    catch_up_timeout: float = 300.0
    """Seconds the start may take to fold the whole log into the read models."""


class Runtime:
    """Opens the pool (failing at once on a bad URL), migrates, loads the accounts,
    starts the ticket registry and follows the log. `close()` stops it all, actors first,
    each after the commands already sent to it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = open_pool(settings.database_url, max_size=settings.pool_size)
        try:
            with self.pool.connection() as conn:
                migrate(conn)
            self.store = EventStore(self.pool)
            self.accounts = AccountStore(self.pool)
            self.account_service = AccountService(self.accounts)
            self.credentials = CredentialCache(self.accounts)
            self.registry = TicketRegistry(self.store, settings.idle_timeout)
            self.closing = threading.Event()
            self.queue_view = QueueViewActor.start(self.store, self.closing)
            self.hub = Hub(settings.resume_window)
            self.desk = Helpdesk(
                self.registry, self.store, self.credentials.assignable, self._candidates
            )
            self.tailer = LogTailer(settings.database_url)
            self.tailer.subscribe(self.credentials.on_events)
            self.tailer.subscribe(self.registry.on_events)
            self.tailer.subscribe(lambda events: self.queue_view.tell(Apply(events)))
            self.registry.start()
            self.tailer.start()
            self._catch_up()
        except BaseException:
            self.close()
            raise

    def _candidates(self, queue: str) -> Future[list[int]]:
        ask = Candidates(queue)
        self.queue_view.tell(ask)
        return ask.reply

    def _catch_up(self) -> None:
        """Fold the log into the read models before the server reports ready."""
        head = self.store.head_position()
        if not self.tailer.wait_for(head, timeout=self.settings.catch_up_timeout):
            raise DatabaseUnavailable(f"the log could not be read up to position {head} in time")
        describe = Describe()
        self.queue_view.tell(describe)
        describe.reply.result(timeout=self.settings.catch_up_timeout)

    def close(self) -> None:
        """Stop what was started, in order; safe after a failed start."""
        if hasattr(self, "closing"):
            self.closing.set()
        steps = (
            ("registry", "stop"), ("desk", "close"), ("tailer", "stop"),
            ("queue_view", "stop"), ("pool", "close"),
        )  # fmt: skip
        for name, method in steps:
            part = getattr(self, name, None)
            if part is None:
                continue
            try:
                getattr(part, method)()
            except Exception:
                logger.exception("stopping the %s failed", name)

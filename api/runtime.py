"""Everything a running Snag server holds, built on start and closed on shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actors import Helpdesk, TicketRegistry
from api.accounts import AccountService
from api.auth import CredentialCache
from eventlog import AccountStore, EventStore, LogTailer, migrate, open_pool

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    idle_timeout: float = 600.0
    """Seconds a ticket actor lives without a message before it is passivated."""
    command_timeout: float = 10.0
    """Seconds a request waits for its ticket's answer before `outcome_unknown`."""
    pool_size: int = 10


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
            self.desk = Helpdesk(self.registry, self.credentials.assignable)
            self.tailer = LogTailer(settings.database_url, self.store.head_position())
            self.tailer.subscribe(self.credentials.on_events)
        except BaseException:
            self.pool.close()
            raise
        self.registry.start()
        self.tailer.start()

    def close(self) -> None:
        self.registry.stop()
        self.tailer.stop()
        self.pool.close()

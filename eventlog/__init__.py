"""Snag's storage layer: the event log and the account store. The only package that imports psycopg."""

from eventlog.accounts import AccountStore, Credentials, User, user_stream
from eventlog.database import connect, open_pool, redact
from eventlog.embedded import default_data_dir, start_embedded
from eventlog.errors import (
    CommandAlreadyRecorded,
    DatabaseUnavailable,
    Forbidden,
    InvalidArgument,
    NotFound,
    OutcomeUnknown,
    SchemaMissing,
    SnagError,
    Unauthorized,
    VersionConflict,
)
from eventlog.records import (
    GENESIS_HASH,
    Metadata,
    NewEvent,
    RecordedEvent,
    StreamWrite,
    expected_hash,
    format_time,
)
from eventlog.schema import check as check_schema
from eventlog.schema import migrate
from eventlog.store import CommandRecord, EventStore, StoredResponse
from eventlog.tail import LogTailer

__all__ = [
    "GENESIS_HASH",
    "AccountStore",
    "CommandAlreadyRecorded",
    "CommandRecord",
    "Credentials",
    "DatabaseUnavailable",
    "EventStore",
    "Forbidden",
    "InvalidArgument",
    "LogTailer",
    "Metadata",
    "NewEvent",
    "NotFound",
    "OutcomeUnknown",
    "RecordedEvent",
    "SchemaMissing",
    "SnagError",
    "StoredResponse",
    "StreamWrite",
    "Unauthorized",
    "User",
    "VersionConflict",
    "check_schema",
    "connect",
    "default_data_dir",
    "expected_hash",
    "format_time",
    "migrate",
    "open_pool",
    "redact",
    "start_embedded",
    "user_stream",
]

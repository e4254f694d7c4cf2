"""The `snag` command line."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from api import audit
from api.accounts import ROLES, AccountService
from api.audit_common import positive_int
from eventlog import (
    AccountStore,
    EventStore,
    SnagError,
    check_schema,
    default_data_dir,
    migrate,
    open_pool,
    start_embedded,
)

EXIT_BAD_INPUT = 2
out = Console(highlight=False, soft_wrap=True, markup=False)


class UsageError(SnagError):
    """The command line itself is wrong."""

    code = "usage"


def database_url(data_dir: Path | None = None) -> str:
    """`DATABASE_URL` when set, else the embedded PostgreSQL (started if need be)."""
    return os.environ.get("DATABASE_URL") or start_embedded(data_dir)


@contextmanager
def stores(args: argparse.Namespace, *, write: bool) -> Iterator[tuple[EventStore, AccountStore]]:
    """Stores on a small pool; only a writing command migrates the schema."""
    pool = open_pool(database_url(args.data_dir), min_size=1, max_size=2)
    try:
        with pool.connection() as conn:
            if write:
                migrate(conn)
            else:
                check_schema(conn)
        yield EventStore(pool), AccountStore(pool)
    finally:
        pool.close()


def read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.password:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise UsageError("the two passwords differ")
        return first
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    from api.server import serve

    return serve(
        database_url(args.data_dir),
        host=args.host,
        port=args.port,
        demo=args.demo,
        idle_timeout=args.idle_timeout,
    )


def cmd_user_add(args: argparse.Namespace) -> int:
    password = read_password(args)
    with stores(args, write=True) as (_, accounts):
        token = AccountService(accounts).add_user(args.name, args.role, password)
    out.print(f"added {args.name} ({args.role}); API token, shown only now:")
    print(token)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    with stores(args, write=False) as (_, accounts):
        users = AccountService(accounts).users()
    table = Table("name", "role", "status", "password", "tokens")
    for u in users:
        table.add_row(
            u.name, u.role, "active" if u.active else "revoked", "yes" if u.has_password else "no",
            str(u.tokens),
        )  # fmt: skip
    out.print(table)
    return 0


def cmd_user_revoke(args: argparse.Namespace) -> int:
    with stores(args, write=True) as (_, accounts):
        AccountService(accounts).revoke_user(args.name)
    out.print(f"revoked {args.name}: their tokens and sessions stop working now")
    return 0


def cmd_token_add(args: argparse.Namespace) -> int:
    with stores(args, write=True) as (_, accounts):
        token = AccountService(accounts).add_token(args.name, args.label)
    out.print(f"new token for {args.name} ({args.label}), shown only now:")
    print(token)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    with stores(args, write=True) as (_, accounts):
        AccountService(accounts).revoke_token(args.name, args.token_id)
    out.print(f"revoked token {args.token_id} of {args.name}")
    return 0


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One readable line and exit code 2, like every other bad input.
        sys.stderr.write(f"snag: {message} (see `{self.prog} --help`)\n")
        sys.exit(EXIT_BAD_INPUT)


def parser() -> argparse.ArgumentParser:
    data_help = (
        "data directory of the embedded PostgreSQL used when DATABASE_URL is not set"
        f" (default: $SNAG_DATA_DIR or {default_data_dir()})"
    )
    root = Parser(
        prog="snag",
        description="Snag, a live helpdesk. Uses the PostgreSQL named by DATABASE_URL, or an "
        "embedded one when it is not set.",
    )
    root.add_argument("--data-dir", type=Path, help=data_help)
    sub = root.add_subparsers(dest="command", required=True, parser_class=Parser)

    def add(
        name: str,
        handler: Callable[[argparse.Namespace], int],
        help: str,
        parent: argparse._SubParsersAction[Parser] = sub,
    ) -> Parser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    serve = add(
        "serve",
        cmd_serve,
        "run the server on the PostgreSQL named by DATABASE_URL or, without it, on an embedded"
        f" PostgreSQL 18 whose data lives in $SNAG_DATA_DIR or {default_data_dir()}"
        " (`snag --data-dir DIR serve` to choose)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="seed demo users and tickets into an empty log"
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        help="seconds before an idle ticket actor stops (default 600)",
    )

    user = sub.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    user_add = add("add", cmd_user_add, "add a user and print their first API token", user)
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=ROLES)
    secret = user_add.add_mutually_exclusive_group()
    secret.add_argument(
        "--password", action="store_true", help="prompt for a password (for the dashboard)"
    )
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add("list", cmd_user_list, "list users", user)
    add("revoke", cmd_user_revoke, "revoke a user, their tokens and sessions", user).add_argument(
        "name"
    )

    token = sub.add_parser("token", help="manage API tokens").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    token_add = add("add", cmd_token_add, "issue another API token to a user", token)
    token_add.add_argument("name")
    token_add.add_argument("--label", required=True)
    token_revoke = add("revoke", cmd_token_revoke, "revoke one API token", token)
    token_revoke.add_argument("name")
    token_revoke.add_argument("token_id", type=positive_int)

    audit.register(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("SNAG_LOG_LEVEL", "WARNING"),
        format="%(levelname)s %(name)s: %(message)s",
    )
    args = parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except SnagError as exc:
        sys.stderr.write(f"snag: {exc.message}\n")
        return EXIT_BAD_INPUT
    except UnicodeError:
        sys.stderr.write("snag: the arguments must be valid UTF-8 text\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())

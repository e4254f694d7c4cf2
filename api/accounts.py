"""Managing accounts: users, passwords (argon2id) and API tokens."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from actors.decide import text
from actors.events import TokenIssued, TokenRevoked, UserAdded, UserRevoked, encode
from api.auth import secret_hash
from eventlog import AccountStore, InvalidArgument, Metadata, User

ROLES = ("agent", "admin", "integration")
RESERVED_NAMES = frozenset({"me", "none"})
TOKEN_PREFIX = "snag_"  # noqa: S105 (a prefix, not a secret)
_hasher = PasswordHasher()  # argon2id with the library's current defaults


def new_token() -> str:
    """A fresh API token: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    checked = text("name", name, limit=64)
    if checked != name:
        raise InvalidArgument("name", "a user name may not start or end with spaces")
    if name.lower() in RESERVED_NAMES:
        raise InvalidArgument("name", f"{name!r} is reserved: it means something in filters")
    if name.startswith("@") or re.search(r"[\x00-\x1f\x7f]", name):
        raise InvalidArgument("name", "a user name may not start with @ or hold control characters")
    return name


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class AccountService:
    def __init__(self, store: AccountStore, actor: str = "@cli") -> None:
        self._store = store
        self._metadata = Metadata(actor)

    def add_user(self, name: str, role: str, password: str | None = None) -> str:
        """Add a user with a first API token; returns the token, shown only this once."""
        check_name(name)
        if role not in ROLES:
            raise InvalidArgument("role", f"role must be one of: {', '.join(ROLES)}")
        if password is not None and len(password) < 8:
            raise InvalidArgument("password", "a password needs at least 8 characters")
        hashed = _hasher.hash(password) if password is not None else None
        self._store.add_user(name, role, hashed, (encode(UserAdded(name, role)),), self._metadata)
        return self.add_token(name, "first token")

    def add_token(self, name: str, label: str) -> str:
        label = text("label", label, limit=100)
        token = new_token()
        self._store.add_token(
            name,
            label,
            secret_hash(token),
            lambda token_id: encode(TokenIssued(name, label, token_id)),
            self._metadata,
        )
        return token

    def revoke_user(self, name: str) -> None:
        self._store.revoke_user(name, encode(UserRevoked(name)), self._metadata)

    def revoke_token(self, name: str, token_id: int) -> None:
        self._store.revoke_token(
            name, token_id, encode(TokenRevoked(name, token_id)), self._metadata
        )

    def users(self) -> list[User]:
        return self._store.users()

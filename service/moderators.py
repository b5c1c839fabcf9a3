"""Moderator accounts: argon2-hashed passwords, lock-out after repeated failures, site scope."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.tables import Comment, Moderator, Site, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()
# Verifying against a real hash for unknown users keeps their login as slow as a known user's.
_DUMMY_HASH = _hasher.hash("not a password")


def create_moderator(
    session: Session, username: str, password: str, site_names: list[str], is_admin: bool = False
) -> Moderator:
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    sites = []
    for name in site_names:
        site = session.scalars(select(Site).where(Site.name == name)).first()
        if site is None:
            raise ValueError(f"no site named {name!r}")
        sites.append(site)
    moderator = Moderator(username=username, password_hash=_hasher.hash(password), is_admin=is_admin, sites=sites)
    session.add(moderator)
    session.commit()
    return moderator


def authenticate(session: Session, username: str, password: str) -> tuple[Moderator | None, str]:
    """(moderator, "") on success, else (None, why): a wrong password and an unknown user look the same."""
    moderator = session.scalars(select(Moderator).where(Moderator.username == username)).first()
    if moderator is None:
        _verify(_DUMMY_HASH, password)
        return None, "invalid username or password"
    password_ok = _verify(moderator.password_hash, password)
    if moderator.locked_until and moderator.locked_until > utcnow():
        # Same answer and cost as a wrong password: a lock-out must not reveal that the account exists.
        return None, "invalid username or password"
    if not password_ok:
        moderator.failed_logins += 1
        if moderator.failed_logins >= MAX_FAILED_LOGINS:
            moderator.locked_until = utcnow() + LOCKOUT
            moderator.failed_logins = 0
        session.commit()
        return None, "invalid username or password"
    moderator.failed_logins = 0
    moderator.locked_until = None
    session.commit()
    return moderator, ""


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def site_ids(moderator: Moderator, session: Session) -> list[int]:
    """Sites the moderator may see and act on: all of them for an admin."""
    if moderator.is_admin:
        return list(session.scalars(select(Site.id)))
    return [site.id for site in moderator.sites]


def can_act_on(moderator: Moderator, session: Session, comment: Comment) -> bool:
    return comment.site_id in site_ids(moderator, session)

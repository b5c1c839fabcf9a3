"""Sites: creation with a one-time API key, stored only as a hash, and lookup by key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import LABELS, recommended_thresholds
from service.policy import DEFAULT_THRESHOLD
from service.tables import Site

KEY_PREFIX = "cvl_"


def hash_api_key(api_key: str) -> str:
    """SHA-256 suffices: keys are 256-bit random tokens, so there is nothing to brute-force."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def default_policy(model_path: str | None = None) -> dict:
    """Thresholds the model recommends (chosen for a stated precision), 0.5 for labels it lacks."""
    recommended = recommended_thresholds(model_path)
    return {"thresholds": {label: recommended.get(label, DEFAULT_THRESHOLD) for label in LABELS}}


@dataclass(frozen=True)
class NewSite:
    site: Site
    api_key: str


def create_site(session: Session, name: str, webhook_url: str | None = None) -> NewSite:
    """Create a site; the returned plaintext key is shown once and never stored."""
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    site = Site(
        name=name,
        api_key_hash=hash_api_key(api_key),
        api_key_prefix=api_key[:10],
        webhook_url=webhook_url,
        webhook_secret=secrets.token_urlsafe(32),
        policy=default_policy(),
    )
    session.add(site)
    session.commit()
    return NewSite(site, api_key)


def site_by_name(session: Session, name: str) -> Site | None:
    return session.scalars(select(Site).where(Site.name == name)).first()


def authenticate(session: Session, api_key: str) -> Site | None:
    """The site owning `api_key`, compared in constant time, or None."""
    if not api_key or len(api_key) > 200:
        return None
    digest = hash_api_key(api_key)
    site = session.scalars(select(Site).where(Site.api_key_hash == digest)).first()
    if site is None or not hmac.compare_digest(site.api_key_hash, digest):
        return None
    return site

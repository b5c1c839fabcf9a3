"""The moderator workspace: login, the held queue, decisions, author history, audit and site settings."""

from service.moderate.views import moderate

__all__ = ["moderate"]

"""Civility: self-hosted comment moderation. The plain-Python core lives here; Flask parts in submodules."""

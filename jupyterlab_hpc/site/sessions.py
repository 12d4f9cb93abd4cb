"""Session tokens the site service hands out once a per-user server proved who it runs as:
proving (MUNGE, or the hub) costs a process or a hub request; a token lookup costs nothing."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from jupyterlab_hpc.site.visibility import Viewer

# Live sessions a user may hold (one per server of theirs, and some to spare): a user who
# opens sessions in a loop replaces their own oldest instead of filling the service's memory.
MAX_SESSIONS_PER_USER = 16


@dataclass
class Sessions:
    """Tokens by their value, each valid ``lifetime`` seconds; kept in memory only, so a
    restarted service asks every server to prove itself again (its 401 says so)."""

    lifetime: float
    clock: Callable[[], float] = time.monotonic
    _viewers: dict[str, tuple[Viewer, float]] = field(default_factory=dict)

    def open(self, viewer: Viewer) -> str:
        self._forget_expired()
        theirs = [token for token, (known, _) in self._viewers.items() if known.name == viewer.name]
        for token in theirs[: max(0, len(theirs) - MAX_SESSIONS_PER_USER + 1)]:
            del self._viewers[token]  # oldest first: dicts keep their insertion order
        token = secrets.token_urlsafe(32)
        self._viewers[token] = (viewer, self.clock() + self.lifetime)
        return token

    def viewer(self, token: str) -> Viewer | None:
        """The viewer a token was given to, while it is valid."""
        found = self._viewers.get(token)
        if found is None or self.clock() >= found[1]:
            return None
        return found[0]

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [token for token, (_, ends) in self._viewers.items() if now >= ends]:
            del self._viewers[token]

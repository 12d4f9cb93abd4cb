"""Session tokens the site service hands out once a per-user server proved who it runs as:
proving (MUNGE, or the hub) costs a process or a hub request; a token lookup costs nothing."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from jupyterlab_hpc.site.visibility import Viewer


@dataclass
class Sessions:
    """Tokens by their value, each valid ``lifetime`` seconds; kept in memory only, so a
    restarted service asks every server to prove itself again (its 401 says so)."""

    lifetime: float
    clock: Callable[[], float] = time.monotonic
    _viewers: dict[str, tuple[Viewer, float]] = field(default_factory=dict)

    def open(self, viewer: Viewer) -> str:
        self._forget_expired()
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

"""Under JupyterHub: the hub says whose a per-user server's API token is."""

from __future__ import annotations

import importlib.util
import os
from typing import Any


class HubTokens:
    """Asks the hub (as the managed service it started, with the service's own token) which
    user a token belongs to; the hub's answers are cached for a short while by HubAuth."""

    def __init__(self) -> None:
        # The hub's own package: installed wherever a hub starts this service.
        from jupyterhub.services.auth import HubAuth  # type: ignore[import-untyped]  # noqa: PLC0415

        self._auth = HubAuth(
            api_token=os.environ["JUPYTERHUB_API_TOKEN"],
            api_url=os.environ["JUPYTERHUB_API_URL"],
            cache_max_age=60,
        )

    @staticmethod
    def started_by_hub() -> bool:
        """Whether this process was started by a hub (as a managed service)."""
        return bool(os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_API_URL"))

    @staticmethod
    def installed() -> bool:
        return importlib.util.find_spec("jupyterhub") is not None

    async def user_of(self, token: str) -> str | None:
        """The hub user name ``token`` was issued to, or None if the hub does not know it."""
        model: dict[str, Any] | None = await self._auth.user_for_token(token, sync=False)
        if not model or model.get("kind", "user") != "user":
            return None
        return str(model["name"])

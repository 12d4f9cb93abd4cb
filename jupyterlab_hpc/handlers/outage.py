"""Slurm out of reach, logged once per outage rather than once per request.

Every open Lab polls several routes, so while slurmctld (or slurmrestd) is down each poll
answers 503, and jupyter_server's request log would write each one as an error with the
request's headers. The first 503 of an outage is logged as an error with Slurm's words, the
following ones at debug level, and the first answer after it says that Slurm is back.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_SLURM_CALL = re.compile(r"^slurm_\w+ error: ")


class OutageLog:
    """Which routes find Slurm out of reach, and why; shared by every route. Routes fail for
    their own reasons (quotas while slurmdbd is down, everything while slurmctld is), so an
    outage is a reason: logged when the first route meets it, over when no route does."""

    def __init__(self, log: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self._log = log
        self._reasons: dict[str, str] = {}  # route -> why it answered 503

    def unreachable(self, route: str, reason: str) -> bool:
        """Note a 503 of ``route``; whether it began an outage (and was logged)."""
        new = _outage(reason) not in map(_outage, self._reasons.values())
        self._reasons[route] = reason
        if new:
            self._log.error("jupyterlab_hpc: Slurm cannot be reached: %s", reason)
        return new

    def reachable(self, route: str) -> None:
        """Note an answer of ``route``; ends its outage if no other route still has it."""
        reason = self._reasons.pop(route, None)
        if reason is not None and _outage(reason) not in map(_outage, self._reasons.values()):
            self._log.info("jupyterlab_hpc: Slurm answers again (was: %s)", reason)


def _outage(reason: str) -> str:
    """The outage a reason names: Slurm's commands prefix the same one with the call that met
    it ("slurm_load_jobs error: Unable to contact slurm controller ..."), one per command."""
    return _SLURM_CALL.sub("", reason, count=1)


class RequestLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A route's logger for jupyter_server's request log: a 503 of an outage already logged
    goes to debug level, not error."""

    def __init__(self, logger: logging.Logger, *, repeated_outage: bool) -> None:
        super().__init__(logger, {})
        self._repeated_outage = repeated_outage

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if self._repeated_outage:
            self.logger.debug(msg, *args, **kwargs)
        else:
            self.logger.error(msg, *args, **kwargs)

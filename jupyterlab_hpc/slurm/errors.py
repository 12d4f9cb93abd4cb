"""What can go wrong when asking Slurm, as exceptions the REST layer maps to statuses."""


class SlurmError(Exception):
    """Slurm refused or failed; the message is Slurm's own words where it gave any."""


class SlurmUnavailable(SlurmError):
    """slurmctld (or slurmdbd, for accounting data) cannot be reached."""


class SlurmTimeout(SlurmError):
    """A Slurm command did not finish within its timeout and was killed."""


class SlurmPermissionDenied(SlurmError):
    """Slurm denied the calling user this action."""


class SlurmNotFound(SlurmError):
    """The job (or other object) does not exist, or no longer exists."""


class SlurmConflict(SlurmError):
    """The job is in the wrong state for the action (e.g. requeue of a pending job)."""


class InvalidRequest(SlurmError):
    """The request was rejected before anything was run, or Slurm rejected it as invalid."""


# Slurm's clients say why they failed only in words on stderr; these are the words that
# tell a controller outage or a permission problem from an ordinary refusal.
_UNAVAILABLE_MARKERS = (
    "Unable to contact slurm controller",
    "Socket timed out on send/recv",
    "Connection refused",
    "Problem talking to the database",
    "Slurm backup controller in standby mode",
    "Zero Bytes were transmitted or received",
    "Could not establish a configuration source",
    "Munge encode failed",
)
_PERMISSION_MARKERS = (
    "Access/permission denied",
    "Permission denied",
    "not authorized",
    "Invalid user id",
)
_CONFLICT_MARKERS = (
    "Job is pending execution",
    "Job has already finished",
    "already completing or completed",
    "Job is no longer pending",
    "Requested operation is presently disabled",
    "Duplicate job id",
)
_NOT_FOUND_MARKERS = ("Invalid job id specified", "Invalid job id", "does not exist")


def error_from_stderr(stderr: str) -> SlurmError:
    """The exception that best describes a Slurm command's failure, keeping Slurm's words."""
    message = stderr.strip() or "Slurm command failed without a message"
    if any(marker in message for marker in _UNAVAILABLE_MARKERS):
        return SlurmUnavailable(message)
    if any(marker in message for marker in _PERMISSION_MARKERS):
        return SlurmPermissionDenied(message)
    if any(marker in message for marker in _CONFLICT_MARKERS):
        return SlurmConflict(message)
    if any(marker in message for marker in _NOT_FOUND_MARKERS):
        return SlurmNotFound(message)
    return SlurmError(message)

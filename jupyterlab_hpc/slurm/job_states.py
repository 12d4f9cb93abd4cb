"""Slurm's job states, the one list this project keeps of them, with what each group means.

A job's state is a base state (Slurm's ``job_states`` enum) or, while a flag that squeue shows
in its place is set, that flag (``job_state_string()``). Both backends read states through
these sets, so they agree on which jobs are listed and which times are facts.
"""

from __future__ import annotations

PENDING = "PENDING"

# Base states a job does not leave by itself: it ended (unless requeued). Slurm's own
# IS_JOB_FINISHED: every base state after SUSPENDED.
FINISHED_STATES = frozenset(
    {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY",
     "BOOT_FAIL", "DEADLINE"}
)  # fmt: skip

# States in which a job's start time is a fact rather than Slurm's projection.
STARTED_STATES = FINISHED_STATES | {"RUNNING", "COMPLETING", "SUSPENDED"}

# States in which a job still waits for, or runs in, the allocation it was given. A job in
# any other state (finished, requeued, stopped) no longer runs what it started with: a
# kernel's job there has lost its kernel.
LIVE_STATES = frozenset({PENDING, "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "RESIZING"})

# Flags shown instead of the base state, in the order job_state_string() tests them (a
# completing job that failed shows as COMPLETING).
SHOWN_FLAGS = (
    "COMPLETING", "STAGE_OUT", "CONFIGURING", "RESIZING", "REQUEUED", "REQUEUE_FED",
    "REQUEUE_HOLD", "SPECIAL_EXIT", "STOPPED", "REVOKED", "RESV_DEL_HOLD", "SIGNALING",
)  # fmt: skip

# Every state a job can be shown in: what a state filter may name.
ALL_STATES = STARTED_STATES | LIVE_STATES | frozenset(SHOWN_FLAGS)

# Why a job in a finished state ended, in words ("the kernel is dead: ...").
ENDED_WORDS = {
    "COMPLETED": "its job finished",
    "CANCELLED": "its job was cancelled",
    "TIMEOUT": "its job reached its time limit",
    "NODE_FAIL": "the compute node running it failed",
    "PREEMPTED": "its job was preempted by a higher-priority job",
    "OUT_OF_MEMORY": "its job ran out of memory",
    "FAILED": "its job failed",
    "BOOT_FAIL": "the compute node failed to boot",
    "DEADLINE": "its job reached its deadline",
}

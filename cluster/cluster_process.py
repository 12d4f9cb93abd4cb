"""Running commands, starting daemons, waiting for them and stopping them by recorded PID."""

import contextlib
import os
import pwd
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.1


class ClusterError(Exception):
    """A step failed; the message says what and where to look."""


class StepClock:
    """Prints each step with the time since the command started."""

    def __init__(self, command):
        self.command = command
        self.start = time.monotonic()

    def log(self, message):
        print(f"[{self.command} {time.monotonic() - self.start:6.2f}s] {message}", flush=True)


def run(cmd, *, env=None, stdin_text=None, timeout=120, check=True):
    """Run a short command, capturing its output; raise ClusterError with that output on failure."""
    try:
        result = subprocess.run(
            cmd,
            env=env,
            input=stdin_text,
            stdin=None if stdin_text is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        message = f"`{' '.join(cmd)}` did not finish within {timeout}s"
        raise ClusterError(message) from exc
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        message = f"`{' '.join(cmd)}` failed with status {result.returncode}:\n{output}"
        raise ClusterError(message)
    return result


def succeeds(cmd, env=None, timeout=10):
    try:
        return run(cmd, env=env, timeout=timeout, check=False).returncode == 0
    except ClusterError:
        return False


def log_tail(path, lines=10):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Started:
    """A daemon this run started: its PID file name (munged, slurmd-n1, ...), process, logs."""

    name: str
    process: subprocess.Popen
    logs: list

    def failure_details(self):
        # The daemon's own log once it has one; before that, only its console has the error.
        shown = next((path for path in reversed(self.logs) if log_tail(path)), self.logs[0])
        where = ", ".join(str(path) for path in self.logs)
        return f"see {where}\n--- end of {shown}:\n{log_tail(shown)}"


def spawn(name, cmd, *, console, own_log=None, env=None, user=None):
    """Start a long-running process detached from us (own session, no stdin, output to console).

    Daemons run in the foreground (no self-daemonising), so the PID we get here is the daemon's
    own PID and we see at once when it exits during start-up.
    """
    with Path(console).open("ab") as output:
        process = subprocess.Popen(
            cmd,
            env=env,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Not the caller's folder: a daemon outlives it, and job steps inherit slurmd's
            # working directory ("Unable to get current working directory" once it is gone).
            cwd="/",
        )
    return Started(name, process, [Path(console), *([Path(own_log)] if own_log else [])])


def wait_until(what, ready, *, timeout, watch=()):
    """Poll `ready()` until true; fail as soon as a watched daemon exits, or after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not ready():
        for daemon in watch:
            if daemon.process.poll() is not None:
                message = (
                    f"{daemon.name} exited with status {daemon.process.returncode} during"
                    f" start-up; {daemon.failure_details()}"
                )
                raise ClusterError(message)
        if time.monotonic() > deadline:
            logs = ", ".join(str(path) for daemon in watch for path in daemon.logs)
            message = f"timed out after {timeout}s waiting for {what}"
            raise ClusterError(message + (f"; see {logs}" if logs else ""))
        time.sleep(POLL_SECONDS)


def write_pid(path, pid):
    Path(path).write_text(f"{pid}\n")


def read_pid(path):
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def process_comm(pid):
    """Command name of a live process; None if it is gone, or a zombie: our daemons outlive
    `up`, so when they exit only PID 1 reaps them, and until then they are zombies."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Format: "pid (comm) state ..."; comm may contain spaces and parentheses.
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    state = stat[stat.rindex(")") + 2]
    return None if state in "ZX" else comm


def is_running(pid, comm):
    # Debian installs each daemon as NAME-wlm behind an alternatives link NAME: started by
    # the link a daemon's comm is NAME, but one that re-executes itself through
    # /proc/self/exe (slurmctld >= 23.11 on `scontrol reconfigure`) becomes NAME-wlm.
    return pid is not None and process_comm(pid) in {comm, f"{comm}-wlm"}


def stop_processes(pids_with_comm, *, timeout=20):
    """TERM every (pid, comm) whose /proc comm still matches, wait, then KILL survivors.

    The comm check keeps a stale PID file from making us signal an unrelated process
    that reused the PID. Returns the PIDs that were signalled.
    """
    targets = [pid for pid, comm in pids_with_comm if is_running(pid, comm)]
    expected = dict(pids_with_comm)
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    alive = targets
    while alive and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        alive = [pid for pid in alive if is_running(pid, expected[pid])]
    for pid in alive:
        print(f"  pid {pid} ({expected[pid]}) ignored SIGTERM for {timeout}s, sending SIGKILL")
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while alive and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        alive = [pid for pid in alive if is_running(pid, expected[pid])]
    return targets


def _signal(pid, sig):
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def all_pids():
    return [int(path.name) for path in Path("/proc").iterdir() if path.name.isdigit()]

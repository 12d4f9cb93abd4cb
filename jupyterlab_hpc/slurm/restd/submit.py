"""A batch script's ``#SBATCH`` lines as slurmrestd job properties (data_parser v0.0.38, and
translated for v0.0.40 and later).

sbatch reads a script's ``#SBATCH`` lines itself; slurmrestd does not: it takes the options as
JSON next to the script. So the slurmrestd backend reads them here, the way sbatch does (from
the top of the script until the first command; text after a ``#`` inside the line is a
comment), and translates the options most scripts use. An option it cannot translate refuses
the submission, rather than running the job without what the script asked for.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jupyterlab_hpc.slurm.errors import InvalidRequest
from jupyterlab_hpc.slurm.notation import memory_mb, time_seconds

_DIRECTIVE = "#SBATCH"
_COUNT = re.compile(r"^\d+$")
_NODE_RANGE = re.compile(r"^(?P<min>\d+)(?:-(?P<max>\d+))?$")


def _text(value: str) -> str:
    return value


def _count(value: str) -> int:
    if not _COUNT.match(value):
        msg = f"not a whole number: {value!r}"
        raise ValueError(msg)
    return int(value)


def _memory(value: str) -> int:
    megabytes = memory_mb(value.upper().removesuffix("B"))
    if megabytes is None:
        msg = f"not a memory size: {value!r}"
        raise ValueError(msg)
    return megabytes


def _node_range(value: str) -> list[int]:
    match = _NODE_RANGE.match(value)
    if match is None:
        msg = f"not a node count or range: {value!r}"
        raise ValueError(msg)
    return [int(match["min"]), int(match["max"] or match["min"])]


def time_minutes(value: str) -> int:
    """sbatch's --time forms (notation.time_seconds) in whole minutes, seconds rounded up as
    Slurm does."""
    seconds = time_seconds(value)
    if seconds is None:
        msg = f"not a time limit: {value!r}"
        raise ValueError(msg)
    return -(-seconds // 60)


# sbatch option (long name) -> (job property, conversion of the option's value).
_VALUED: dict[str, tuple[str, Callable[[str], Any]]] = {
    "account": ("account", _text),
    "array": ("array", _text),
    "chdir": ("current_working_directory", _text),
    "comment": ("comment", _text),
    "constraint": ("constraints", _text),
    "cpus-per-gpu": ("cpus_per_gpu", _text),
    "cpus-per-task": ("cpus_per_task", _count),
    "dependency": ("dependency", _text),
    "error": ("standard_error", _text),
    "exclusive": ("exclusive", _text),
    "gpus": ("gpus", _text),
    "gpus-per-node": ("gpus_per_node", _text),
    "gpus-per-task": ("gpus_per_task", _text),
    "gres": ("gres", _text),
    "input": ("standard_input", _text),
    "job-name": ("name", _text),
    "licenses": ("licenses", _text),
    "mail-type": ("mail_type", _text),
    "mail-user": ("mail_user", _text),
    "mem": ("memory_per_node", _memory),
    "mem-per-cpu": ("memory_per_cpu", _memory),
    "mem-per-gpu": ("memory_per_gpu", _memory),
    "nice": ("nice", _count),
    "nodes": ("nodes", _node_range),
    "ntasks": ("tasks", _count),
    "ntasks-per-node": ("tasks_per_node", _count),
    "output": ("standard_output", _text),
    "partition": ("partition", _text),
    "qos": ("qos", _text),
    "reservation": ("reservation", _text),
    "signal": ("signal", _text),
    "time": ("time_limit", time_minutes),
    "time-min": ("time_minimum", time_minutes),
    "wckey": ("wckey", _text),
}
# Options without a value: (job property, value).
_FLAGS: dict[str, tuple[str, Any]] = {
    "exclusive": ("exclusive", "true"),
    "hold": ("hold", True),
    "no-requeue": ("requeue", False),
    "oversubscribe": ("oversubscribe", True),
    "requeue": ("requeue", True),
    "spread-job": ("spread_job", True),
}
_SHORT = {
    "A": "account",
    "a": "array",
    "C": "constraint",
    "c": "cpus-per-task",
    "D": "chdir",
    "d": "dependency",
    "e": "error",
    "G": "gpus",
    "H": "hold",
    "i": "input",
    "J": "job-name",
    "L": "licenses",
    "N": "nodes",
    "n": "ntasks",
    "o": "output",
    "p": "partition",
    "q": "qos",
    "s": "oversubscribe",
    "t": "time",
}
# Paths sbatch reads relative to the job's working directory.
_PATHS = ("current_working_directory", "standard_output", "standard_error", "standard_input")


def job_properties(
    script_text: str, *, script_path: str, work_dir: str, environment: Mapping[str, str]
) -> dict[str, Any]:
    """The ``job`` of a submission: the script's ``#SBATCH`` options, run in ``work_dir``,
    named after the script unless it names itself, with ``environment``.

    No ``argv``: Slurm 22.05's slurmrestd crashes (segfault) on a submission that has one.
    """
    properties: dict[str, Any] = {
        "name": posixpath.basename(script_path),
        "current_working_directory": work_dir,
        "environment": dict(environment),
    }
    for option, value in _options(script_text):
        name, converted = _property(option, value)
        properties[name] = converted
    for name in _PATHS:
        if name in properties:
            properties[name] = posixpath.join(work_dir, properties[name])
    return properties


# v0.0.38 GPU properties -> v0.0.40's TRES property, whose value names the GPUs ("gres/gpu:2").
_GPU_TRES = {
    "gpus": "tres_per_job",
    "gpus_per_node": "tres_per_node",
    "gpus_per_task": "tres_per_task",
    "cpus_per_gpu": "cpus_per_tres",
    "memory_per_gpu": "memory_per_tres",
}
# sbatch --exclusive[=user|mcs|topo] as v0.0.40's sharing: "none" is a node to itself.
_EXCLUSIVE = {"true": "none", "user": "user", "mcs": "mcs", "topo": "topo"}
# sbatch's --mail-type names that v0.0.40 spells otherwise; ALL as sbatch expands it.
_MAIL_TYPES = {
    "ALL": ["BEGIN", "END", "FAIL", "REQUEUE", "STAGE_OUT"],
    "NONE": [],
    "TIME_LIMIT": ["TIME=100%"],
    "TIME_LIMIT_90": ["TIME=90%"],
    "TIME_LIMIT_80": ["TIME=80%"],
    "TIME_LIMIT_50": ["TIME=50%"],
}


def job_properties_v40(properties: Mapping[str, Any]) -> dict[str, Any]:
    """job_properties' answer for data_parser v0.0.40 to v0.0.45: the environment as
    ``NAME=value`` lines, GPUs as TRES, the node range as text, sharing, mail types and
    --spread-job as lists."""
    job = dict(properties)
    job["environment"] = [f"{name}={value}" for name, value in job["environment"].items()]
    tres_per_node = [f"gres/{item}" for item in job.pop("gres", "").split(",") if item]
    for name, tres_name in _GPU_TRES.items():
        if name in job:
            value = f"gres/gpu:{job.pop(name)}"
            if tres_name == "tres_per_node":
                tres_per_node.append(value)
            else:
                job[tres_name] = value
    if tres_per_node:
        job["tres_per_node"] = ",".join(tres_per_node)
    if "nodes" in job:
        low, high = job["nodes"]
        job["nodes"] = str(low) if low == high else f"{low}-{high}"
    if "exclusive" in job:
        exclusive = job.pop("exclusive")
        job["shared"] = [_EXCLUSIVE.get(exclusive, exclusive)]
    if job.pop("oversubscribe", False):
        job["shared"] = ["oversubscribe"]
    if job.pop("spread_job", False):
        job["flags"] = ["SPREAD_JOB"]
    if "signal" in job:  # [{R|B}:]<sig_num>[@sig_time], as sbatch --signal reads it
        flags, _, signal = job.pop("signal").rpartition(":")
        name, _, delay = signal.partition("@")
        job["kill_warning_signal"] = name
        job["kill_warning_delay"] = {"set": True, "infinite": False, "number": int(delay or 60)}
        job["kill_warning_flags"] = ["BATCH_JOB"] if "B" in flags else []
    if "mail_type" in job:
        names = job.pop("mail_type").upper().split(",")
        job["mail_type"] = [kind for name in names for kind in _MAIL_TYPES.get(name, [name])]
    return job


def _options(script_text: str) -> Iterator[tuple[str, str | None]]:
    """(long option name, value or None) for every option on the leading ``#SBATCH`` lines."""
    for line in script_text.splitlines()[1:] if script_text.startswith("#!") else []:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return  # sbatch stops at the first command
        if not stripped.startswith(_DIRECTIVE + " ") and stripped != _DIRECTIVE:
            continue
        try:
            words = shlex.split(stripped.removeprefix(_DIRECTIVE), comments=True)
        except ValueError as error:
            msg = f"Cannot read the line {stripped!r}: {error}"
            raise InvalidRequest(msg) from error
        yield from _words_as_options(words, stripped)


def _words_as_options(words: list[str], line: str) -> Iterator[tuple[str, str | None]]:
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--"):
            name, equals, value = word[2:].partition("=")
            if equals:
                yield name, value
                continue
        elif word.startswith("-") and len(word) > 1 and word[1] in _SHORT:
            name, value = _SHORT[word[1]], word[2:]
            if value:
                yield name, value
                continue
        else:
            msg = f"Not an sbatch option in {line!r}: {word!r}"
            raise InvalidRequest(msg)
        takes_value = name in _VALUED and name not in _FLAGS
        if takes_value and index < len(words):
            yield name, words[index]
            index += 1
        else:
            yield name, None


def _property(option: str, value: str | None) -> tuple[str, Any]:
    if value is None and option in _FLAGS:
        return _FLAGS[option]
    if value is None or option not in _VALUED:
        msg = (
            f"#SBATCH --{option} is not supported with the slurmrestd backend (slurmrestd does "
            "not read #SBATCH lines; jupyterlab-hpc translates the common options only)"
            if option not in _VALUED
            else f"#SBATCH --{option} needs a value"
        )
        raise InvalidRequest(msg)
    name, convert = _VALUED[option]
    try:
        return name, convert(value)
    except ValueError as error:
        msg = f"#SBATCH --{option}={value}: {error}"
        raise InvalidRequest(msg) from error

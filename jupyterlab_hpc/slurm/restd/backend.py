"""The slurmrestd backend: Slurm's REST API with a JWT, for sites without Slurm's commands on
the Jupyter host. Same contract and same models as the commands backend."""

from __future__ import annotations

import asyncio
import getpass
import grp
import os
import pwd
import re
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jupyterlab_hpc.slurm import validation
from jupyterlab_hpc.slurm.backend import JobAction
from jupyterlab_hpc.slurm.errors import (
    InvalidRequest,
    SlurmError,
    SlurmNotFound,
    SlurmUnavailable,
    error_from_stderr,
)
from jupyterlab_hpc.slurm.notation import find_job
from jupyterlab_hpc.slurm.records import (
    AccountQuota,
    BatchScript,
    ClusterInfo,
    Job,
    JobDetail,
    JobStatus,
    Partition,
    Reservation,
    UserAccess,
)
from jupyterlab_hpc.slurm.restd.client import RestClient, TokenSource
from jupyterlab_hpc.slurm.restd.dialects import SUPPORTED_VERSIONS, Dialect, dialect, version_key
from jupyterlab_hpc.slurm.restd.parse import (
    parse_job_details,
    parse_job_status,
    parse_jobs,
    parse_partitions,
    parse_reservations,
    parse_user_accounts,
)
from jupyterlab_hpc.slurm.restd.submit import job_properties

_VERSION_PATH = re.compile(r"^/slurm/(v\d+\.\d+\.\d+)/")
# What the job's environment must not inherit from the server: the server's own job, if it
# runs inside one, would otherwise leak its SLURM_* values into the new job.
_SERVER_ONLY_PREFIXES = ("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")


def newest_supported_version(openapi: dict[str, Any]) -> str:
    """The newest ``/slurm`` API version that both slurmrestd offers and this backend reads."""
    offered = {
        match[1] for path in openapi.get("paths", {}) if (match := _VERSION_PATH.match(path))
    }
    usable = [version for version in SUPPORTED_VERSIONS if version in offered]
    if not usable:
        msg = (
            f"slurmrestd offers {', '.join(sorted(offered)) or 'no /slurm API'}; "
            f"this backend reads {', '.join(SUPPORTED_VERSIONS)}"
        )
        raise SlurmUnavailable(msg)
    return max(usable, key=version_key)


class SlurmRestd:
    """Talks to slurmrestd over HTTP(S), authenticated with a Slurm JWT (``rest_auth/jwt``).

    ``token`` is used as is; empty, ``token_command`` prints one (renewed before it expires).
    Every request acts as ``user_name``; ``api_version`` empty means the newest both know;
    ``verify`` and ``ca_bundle`` check an https slurmrestd's certificate.
    """

    name = "slurmrestd"

    def __init__(
        self,
        *,
        url: str,
        token: str = "",
        token_command: Sequence[str] = (),
        user_name: str = "",
        api_version: str = "",
        timeout: float = 30.0,
        verify: bool = True,
        ca_bundle: str = "",
    ) -> None:
        self.url = url
        self.verify = verify
        self.ca_bundle = ca_bundle
        self.token = token
        self.token_command = list(token_command)
        self.user_name = user_name or getpass.getuser()
        self.api_version = api_version
        self.timeout = timeout
        self._client: RestClient | None = None
        self._dialect: Dialect | None = None
        self._version_lock = asyncio.Lock()

    @property
    def client(self) -> RestClient:
        if self._client is None:
            tokens = TokenSource(token=self.token, command=self.token_command, timeout=self.timeout)
            self._client = RestClient(
                url=self.url,
                user_name=self.user_name,
                tokens=tokens,
                timeout=self.timeout,
                verify=self.verify,
                ca_bundle=self.ca_bundle,
            )
        return self._client

    async def whoami(self) -> str:
        """The user slurmrestd acts as: the one the token was issued to, named in requests."""
        await self._slurm("GET", "/ping")
        return self.user_name

    async def cluster_info(self) -> ClusterInfo:
        """The release slurmrestd reports (built with slurmctld's); the cluster as slurmdbd
        names it, or as a job in the queue carries it when slurmdbd is down."""
        answer = await self._slurm("GET", "/ping")
        version = (await self.dialect()).release(answer)
        try:
            clusters = (await self._slurmdb("GET", "/clusters")).get("clusters") or []
        except SlurmError:
            clusters = (await self._slurm("GET", "/jobs")).get("jobs") or []
        names = {str(cluster.get("name") or cluster.get("cluster")) for cluster in clusters}
        if len(names) != 1:
            msg = f"slurmrestd does not name one cluster (found: {sorted(names)})"
            raise SlurmError(msg)
        return ClusterInfo(cluster=names.pop(), slurm_version=version)

    async def user_access(self, user: str) -> UserAccess:
        """Accounts from slurmdbd (slurmrestd has no view of slurmctld's association manager);
        Unix groups as the Jupyter host sees them."""
        name = validation.slurm_name(user, "user")
        accounts, default_account = parse_user_accounts(
            await self._slurmdb("GET", f"/associations?user={name}"), name
        )
        return UserAccess(
            user=name,
            default_account=default_account,
            accounts=accounts,
            groups=await asyncio.to_thread(_unix_groups, name),
        )

    async def list_jobs(self, *, mine: bool) -> list[Job]:
        # slurmrestd has no user filter: it sends every job slurmctld remembers.
        answer = await self._slurm("GET", "/jobs")
        jobs = parse_jobs(answer, await self.dialect(), now=time.time(), queued_only=True)
        return [job for job in jobs if job.user == self.user_name] if mine else jobs

    async def get_job(self, job_id: str) -> Job:
        return (await self.get_job_detail(job_id)).job

    async def get_job_detail(self, job_id: str) -> JobDetail:
        """The job while slurmctld knows it. Not yet here: the efficiency of finished jobs and
        jobs slurmctld forgot (both need slurmdbd's job records, a different JSON)."""
        # An array task (1234_7) or a pending array's rest (1234_[8-20%1]) is asked for by its
        # array's id, which answers with all its tasks: slurmrestd reads no rest's id, and
        # 22.05's finds no task by its 1234_7 id. find_job takes exactly the one asked for.
        query_id = validation.job_id(job_id).partition("_")[0]
        answer = await self._slurm("GET", f"/job/{query_id}")
        details = parse_job_details(answer, await self.dialect(), now=time.time())
        detail = find_job(details, job_id)
        if detail is None:
            msg = f"No job {job_id} in Slurm's queue"
            raise SlurmNotFound(msg)
        return detail

    async def act_on_job(self, job_id: str, action: JobAction) -> None:
        path = f"/job/{validation.job_id(job_id)}"
        dialect = await self.dialect()
        if action == "cancel":
            refusal = dialect.signal_refusal(await self._slurm("DELETE", path))
            if refusal:
                raise error_from_stderr(refusal)
        elif action in {"hold", "release"}:
            await self._slurm("POST", path, {"hold": action == "hold"})
        elif action == "requeue" and dialect.requeues:
            await self._slurm("GET", f"{path}/requeue")  # Slurm's refusal comes as an error
        else:
            msg = (
                f"slurmrestd API {dialect.version} offers no {action} (v0.0.45 and later do); "
                "the commands backend does"
            )
            raise SlurmError(msg)

    async def submit(self, script: str, work_dir: str) -> str:
        """Submit the script at ``script`` with its ``#SBATCH`` options, to run in ``work_dir``."""
        try:
            text = await asyncio.to_thread(Path(script).read_text, errors="replace")
        except OSError as error:
            msg = f"Cannot read the batch script {script}: {error.strerror}"
            raise InvalidRequest(msg) from error
        if not text.startswith("#!"):
            # sbatch's own refusal, so both backends say the same.
            msg = (
                "This does not look like a batch script. The first line must start with #! "
                "followed by the path to an interpreter."
            )
            raise InvalidRequest(msg)
        job = job_properties(
            text, script_path=script, work_dir=work_dir, environment=self._job_environment()
        )
        body = (await self.dialect()).submission(text, job)
        answer = await self._slurm("POST", "/job/submit", body)
        return str(answer["job_id"])

    async def submit_script(self, job: BatchScript) -> str:
        """The script with its options as ``#SBATCH`` lines, read as the Submit route's
        scripts are (an option slurmrestd cannot take refuses the submission), in the
        environment sbatch would pass on, without the withheld variables."""
        shebang, _, body = job.script.partition("\n")
        directives = "".join(f"#SBATCH {shlex.quote(option)}\n" for option in job.options)
        text = f"{shebang}\n{directives}{body}"
        environment = self._job_environment()
        for name in job.withheld_environment:
            environment.pop(name, None)
        home = environment.get("HOME", "/")
        properties = job_properties(
            text, script_path="batch", work_dir=home, environment=environment
        )
        answer = await self._slurm(
            "POST", "/job/submit", (await self.dialect()).submission(text, properties)
        )
        return str(answer["job_id"])

    async def job_status(self, job_id: str) -> JobStatus | None:
        """From slurmctld. Once slurmctld forgot the job (MinJobAge after its end) None:
        slurmdbd's job records are not read here."""
        query = validation.job_id(job_id).partition("_")[0]
        try:
            answer = await self._slurm("GET", f"/job/{query}")
        except SlurmNotFound:
            return None
        return parse_job_status(answer, await self.dialect(), job_id)

    async def signal_batch_shell(self, job_id: str, signum: int) -> None:
        dialect = await self.dialect()
        if not dialect.signals_batch_shell:
            msg = f"slurmrestd API {dialect.version} cannot signal a batch shell (v0.0.40 can)"
            raise SlurmError(msg)
        path = f"/job/{validation.job_id(job_id)}?signal={int(signum)}&flags=BATCH_JOB"
        refusal = dialect.signal_refusal(await self._slurm("DELETE", path))
        if refusal:
            raise error_from_stderr(refusal)

    async def node_address(self) -> str:
        """The first node's address as slurmctld has it."""
        nodes = (await self._slurm("GET", "/nodes")).get("nodes") or []
        address = next((str(node["address"]) for node in nodes if node.get("address")), None)
        if address is None:
            msg = "slurmrestd lists no compute node"
            raise SlurmError(msg)
        return address

    async def list_partitions(self) -> list[Partition]:
        partitions, nodes = await asyncio.gather(
            self._slurm("GET", "/partitions"), self._slurm("GET", "/nodes")
        )
        return parse_partitions(partitions, nodes, await self.dialect())

    async def list_quotas(self, user: str) -> list[AccountQuota]:
        """Not available: slurmrestd sends association limits but not their usage."""
        validation.slurm_name(user, "user")
        msg = (
            "Account usage is not available through slurmrestd (its API has no usage "
            "against association limits); the commands backend shows it"
        )
        raise SlurmUnavailable(msg)

    async def list_reservations(self) -> list[Reservation]:
        answer = await self._slurm("GET", "/reservations")
        return parse_reservations(answer, await self.dialect(), now=time.time())

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _job_environment(self) -> dict[str, str]:
        """What sbatch would pass on (the submitting process's environment), as user_name."""
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(_SERVER_ONLY_PREFIXES)
        }
        try:
            account = pwd.getpwnam(self.user_name)
        except KeyError:
            return environment
        environment.update(USER=self.user_name, LOGNAME=self.user_name, HOME=account.pw_dir)
        return environment

    async def _slurm(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A request to ``path`` under the /slurm API of the chosen version."""
        version = (await self.dialect()).version
        return await self.client.request(method, f"/slurm/{version}{path}", body)

    async def _slurmdb(self, method: str, path: str) -> dict[str, Any]:
        """A request to ``path`` under the /slurmdb API (slurmdbd's data) of the same version."""
        version = (await self.dialect()).version
        return await self.client.request(method, f"/slurmdb/{version}{path}")

    async def dialect(self) -> Dialect:
        """How the chosen API version's JSON reads: api_version, else the newest both know."""
        async with self._version_lock:
            if self._dialect is None:
                version = self.api_version or newest_supported_version(
                    await self.client.request("GET", "/openapi/v3")
                )
                self._dialect = dialect(version)
            return self._dialect


def _unix_groups(user: str) -> tuple[str, ...]:
    """``user``'s groups by name, as ``id -Gn`` lists them; () for a user unknown here."""
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        return ()
    names = []
    for gid in os.getgrouplist(user, account.pw_gid):
        try:
            names.append(grp.getgrgid(gid).gr_name)
        except KeyError:
            names.append(str(gid))
    return tuple(names)

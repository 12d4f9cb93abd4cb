"""The launcher as one file the job runs, so compute nodes need no jupyterlab_hpc.

The launcher and what it imports (channel, relay, zmtp, handoff) are standard library only.
They go into a zip application (``python launcher-<digest>.pyz ...``, PEP 441) in the user's
private handoff directory, which the nodes share: any Python 3.11+ there runs it, the kernel's
own environment included, and the kernel process inherits no path of ours. The digest of the
contents names the file, so servers of different releases never overwrite each other's.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # jupyterlab_hpc/
# What the launcher imports, by path inside the package, and so inside the zip.
_MODULES = (
    "__init__.py",
    "kernels/__init__.py",
    "kernels/launcher.py",
    "kernels/channel.py",
    "kernels/relay.py",
    "kernels/zmtp.py",
    "kernels/handoff.py",
)
_MAIN = b"import sys\nfrom jupyterlab_hpc.kernels.launcher import main\nsys.exit(main())\n"
# A fixed time for every member: the same sources always make the same bytes, and name.
_EPOCH = (2020, 1, 1, 0, 0, 0)


@cache
def launcher_app() -> tuple[str, bytes]:
    """The zip application's file name and bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        members = [("__main__.py", _MAIN)]
        members += [(f"jupyterlab_hpc/{path}", (_PACKAGE / path).read_bytes()) for path in _MODULES]
        for name, content in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=_EPOCH), content)
    content = buffer.getvalue()
    return f"launcher-{hashlib.sha256(content).hexdigest()[:16]}.pyz", content

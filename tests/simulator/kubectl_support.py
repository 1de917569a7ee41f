"""Running the real ``kubectl`` binary against a simulator, for the kubectl tests.

``kubectl`` is skipped loudly when it is not installed (a failure under ``MESH_UI_STRICT=1``, as CI runs: ``.ci/run``
installs Debian's ``kubernetes-client`` when the machine has no ``kubectl``). Each run uses its own discovery and
OpenAPI cache directory, so nothing cached from another simulator (or another run) answers for this one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.conftest import require

SAMPLES = Path(__file__).resolve().parents[2] / "simulator" / "samples" / "bookinfo" / "networking"


@dataclass
class Kubectl:
    """``kubectl`` pointed at one kubeconfig, with its own cache directory."""

    binary: str
    kubeconfig: Path
    cache_dir: Path

    @property
    def minor(self) -> int:
        """This kubectl's minor version: what it validates with (OpenAPI v3 and the server from 1.27, client-side
        v2 before) and which flags it has."""
        return client_minor(self.binary)

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``kubectl ARGS`` (``env``: extra environment variables); with ``check``, a non-zero exit fails the
        test with kubectl's output."""
        command = [self.binary, f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache_dir}", *args]
        environment = {**os.environ, **(env or {})}
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=60, check=False, env=environment
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        """The standard output of a successful ``kubectl ARGS``."""
        return self.run(*args, stdin=stdin).stdout


def find_kubectl() -> str:
    """``$MESH_UI_TEST_KUBECTL`` (to try another kubectl version) or the ``kubectl`` on PATH, else skip (fail in
    strict mode)."""
    binary = os.environ.get("MESH_UI_TEST_KUBECTL") or shutil.which("kubectl")
    require(binary is not None, "kubectl is not installed (Debian package kubernetes-client)")
    assert binary is not None
    return binary


@cache
def client_minor(binary: str) -> int:
    """The minor version of a kubectl binary (``20`` for Debian bookworm's 1.20, ``31`` for 1.31)."""
    result = subprocess.run([binary, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True)
    minor = json.loads(result.stdout)["clientVersion"]["minor"]
    return int("".join(ch for ch in minor if ch.isdigit()))


def table_rows(output: str) -> list[dict[str, str]]:
    """The rows of ``kubectl get`` output as dicts keyed by column header (columns split on 2+ spaces)."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[i - 1] == " ")]
    names = header.split()
    rows = []
    for line in lines[1:]:
        cells = [line[start:end].strip() for start, end in zip(starts, [*starts[1:], None], strict=True)]
        rows.append(dict(zip(names, cells, strict=True)))
    return rows

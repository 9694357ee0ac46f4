"""Third-party servers the tests run voiceloop against, each in its own virtual environment.

Their dependencies would clash with voiceloop's (pinned FastAPI, pydantic, httpx...), so each
lives in ``.servers/<name>`` inside the checkout, built with the project's own ``scripts/uv``
from PyPI. ``python -m tests.servers.venvs`` builds them all (CI does, before the tests); a
test whose venv is missing builds it on first use.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".servers"
SERVERS: dict[str, list[str]] = {
    "faster-whisper-server": ["faster-whisper-server==0.0.3"],
    "litellm": ["litellm[proxy]==1.108.7"],
}


def python(name: str) -> Path:
    """The interpreter of the venv of ``name``, built if it is not there yet."""
    exe = HOME / name / "bin" / "python"
    if not exe.exists():
        build(name)
    return exe


def build(name: str) -> None:
    target = HOME / name
    uv = str(ROOT / "scripts" / "uv")
    subprocess.run([uv, "venv", "-q", "--allow-existing", "-p", "3.11", str(target)], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(target / "bin" / "python"), *SERVERS[name]],
        check=True,
    )


if __name__ == "__main__":
    for server in sys.argv[1:] or list(SERVERS):
        build(server)

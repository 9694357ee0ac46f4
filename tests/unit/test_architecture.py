"""The layer rules in pyproject.toml hold, and the checker really checks them."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import voiceloop

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(*args: str, cwd: Path = ROOT, pythonpath: Path | None = None):
    env = None
    if pythonpath is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_are_kept() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_checker_catches_a_broken_layer(tmp_path: Path) -> None:
    package = tmp_path / "probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "high.py").write_text("")
    (package / "low.py").write_text("import probe_pkg.high\n")
    config = tmp_path / "contracts.toml"
    config.write_text(
        textwrap.dedent(
            """
            [tool.importlinter]
            root_package = "probe_pkg"
            [[tool.importlinter.contracts]]
            name = "high above low"
            type = "layers"
            layers = ["probe_pkg.high", "probe_pkg.low"]
            """
        )
    )
    result = lint_imports("--config", str(config), cwd=tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1
    assert "probe_pkg.low -> probe_pkg.high" in result.stdout


def _loaded_after_importing(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(result.stdout))


def _modules_under(*, exclude: tuple[str, ...]) -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(voiceloop.__path__, "voiceloop.")
        if not info.name.startswith(exclude)
    ]
    return sorted(names)


def test_no_module_below_the_tui_loads_textual() -> None:
    modules = _modules_under(exclude=("voiceloop.tui", "voiceloop.cli", "voiceloop.__main__"))
    assert "voiceloop.config" in modules
    assert "textual" not in _loaded_after_importing(modules)


def test_audio_loads_no_http_library() -> None:
    modules = [m for m in _modules_under(exclude=()) if m.startswith("voiceloop.audio")]
    loaded = _loaded_after_importing(modules)
    assert not loaded & {"httpx", "httpx_sse", "httpcore"}


def _contracts() -> list[dict[str, object]]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _top_level_modules() -> set[str]:
    return {f"voiceloop.{info.name}" for info in pkgutil.iter_modules(voiceloop.__path__)}


def test_every_module_has_a_layer() -> None:
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    assert isinstance(layers, list)
    placed = {name.strip().strip("()") for layer in layers for name in layer.split(":")}
    assert _top_level_modules() - placed == set()


def test_every_module_below_the_tui_is_forbidden_textual() -> None:
    contract = next(c for c in _contracts() if "Textual" in str(c["name"]))
    sources = set(contract["source_modules"])
    above = {"voiceloop.__main__", "voiceloop.cli", "voiceloop.tui"}
    assert _top_level_modules() - above - sources == set()

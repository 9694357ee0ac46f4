"""The set-up scripts behind the README's two commands (no network, nothing installed)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup-system.sh"
WRAPPER = ROOT / "scripts" / "uv"
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

needs_dpkg = pytest.mark.skipif(
    shutil.which("dpkg-query") is None, reason="dpkg-query (Debian's package tool) not installed"
)


def fake_uv(directory: Path) -> Path:
    """A stand-in `uv` that reports how it was called."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "uv"
    script.write_text('#!/bin/sh\necho "fake uv at $0: $*"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def run_wrapper(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRAPPER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_scripts_parse() -> None:
    for script, shell in ((SETUP, "sh"), (WRAPPER, "sh"), (ROOT / ".ci" / "run", "bash")):
        assert os.access(script, os.X_OK), script
        subprocess.run([shell, "-n", str(script)], check=True)


@needs_dpkg
def test_check_names_exactly_the_missing_packages() -> None:
    result = subprocess.run(
        [str(SETUP), "--check", "libc6", "voiceloop-no-such-package"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    # Only the unknown package is missing (libc6 is on every Debian system).
    assert result.stdout.split()[1:] == ["voiceloop-no-such-package"]


@needs_dpkg
def test_check_passes_when_everything_is_installed() -> None:
    result = subprocess.run(
        [str(SETUP), "--check", "--quiet", "libc6"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_wrapper_uses_uv_from_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_uv(bin_dir)
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:{SYSTEM_PATH}"}
    result = run_wrapper("run", "voiceloop", "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"fake uv at {bin_dir / 'uv'}: run voiceloop --help\n"


def test_wrapper_uses_the_uv_it_installed_before(tmp_path: Path) -> None:
    data = tmp_path / "data"
    installed = fake_uv(data / "voiceloop" / "uv" / "bin")
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(data), "PATH": SYSTEM_PATH}
    result = run_wrapper("sync", env=env)
    assert result.returncode == 0, result.stderr
    system_uv = shutil.which("uv", path=SYSTEM_PATH)  # one on PATH is preferred
    if system_uv:
        assert "fake uv" not in result.stdout
    else:
        assert result.stdout == f"fake uv at {installed}: sync\n"


def test_wrapper_points_uv_at_the_system_certificates(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").write_text('#!/bin/sh\necho "SSL_CERT_FILE=${SSL_CERT_FILE:-}"\n')
    (bin_dir / "uv").chmod(0o755)
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:{SYSTEM_PATH}"}
    result = run_wrapper("--version", env=env)
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    expected = str(bundle) if bundle.exists() else ""
    assert result.stdout == f"SSL_CERT_FILE={expected}\n"
    env["SSL_CERT_FILE"] = "/custom/ca.pem"
    assert run_wrapper("--version", env=env).stdout == "SSL_CERT_FILE=/custom/ca.pem\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "voiceloop"], "--quiet"),
        (["run", "pytest"], "--quiet --test"),
        (["run", "pytest", "tests/unit", "-q"], "--quiet --test"),
        (["run", "python", "-m", "pytest"], "--quiet --test"),
        (["sync"], "--quiet"),
    ],
)
def test_wrapper_asks_for_the_test_tools_only_for_pytest(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(WRAPPER, scripts / "uv")
    probe = scripts / "setup-system.sh"
    probe.write_text('#!/bin/sh\necho "setup-system $*" >&2\n')
    probe.chmod(0o755)
    bin_dir = tmp_path / "bin"
    fake_uv(bin_dir)
    result = subprocess.run(
        [str(scripts / "uv"), *args],
        env={"HOME": str(tmp_path), "PATH": f"{bin_dir}:{SYSTEM_PATH}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"setup-system {expected}\n"
    assert result.stdout.endswith(": " + " ".join(args) + "\n")

"""The headless commands keep `voiceloop --help` light: no numpy/httpx at import."""

import subprocess
import sys


def test_help_imports_no_heavy_modules():
    code = (
        "import sys; from voiceloop.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('numpy', 'httpx', 'httpx_sse', 'soundfile', 'textual', 'pydantic') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

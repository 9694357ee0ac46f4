"""Audio above the upload limit: split near silences, each chunk sent, transcripts merged.

A low upload limit forces chunking of a one-minute file. A faint noise floor (below the
fake server's silence threshold) keeps FLAC from shrinking the file under the limit.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from pydantic import SecretStr

from tests.fakegroq.sounds import tone_track, write
from voiceloop.cli import main
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool
from voiceloop.providers.longform import transcribe_path

TONES = [(2.0, 1.0, 440), (14.0, 1.0, 550), (27.0, 1.2, 660), (41.0, 1.0, 770), (55.0, 1.5, 880)]
LIMIT = 512 * 1024

pytestmark = pytest.mark.usefixtures("tones_are_speech")


@pytest.fixture
def long_file(tmp_path):
    rng = np.random.default_rng(7)
    pcm = tone_track(TONES, 60.0) + rng.uniform(-0.003, 0.003, 960_000).astype(np.float32)
    return write(tmp_path / "minute.wav", pcm)


async def test_long_file_is_chunked_and_merged_with_real_offsets(fake_groq, long_file):
    pool = ClientPool()
    client = GroqClient(fake_groq.base_url, SecretStr(fake_groq.api_key), pool=pool)
    progress = []
    try:
        result = await transcribe_path(
            client, long_file, task="transcribe", model="whisper-large-v3-turbo",
            upload_limit_bytes=LIMIT, on_progress=lambda d, t: progress.append((d, t)),
        )  # fmt: skip
    finally:
        await pool.aclose()
    uploads = fake_groq.requests_to("transcriptions")
    assert len(uploads) >= 4
    assert all(len(r.file[1]) <= LIMIT for r in uploads)
    assert all(r.file[1][:4] == b"fLaC" for r in uploads)
    assert progress == [(i + 1, len(uploads)) for i in range(len(uploads))]
    # Each tone once, in order, at its real time in the whole file.
    assert [s["text"].strip() for s in result.segments] == [f"tone {f} hertz" for *_, f in TONES]
    for seg, (start, seconds, _) in zip(result.segments, TONES, strict=True):
        assert seg["start"] == pytest.approx(start, abs=0.06)
        assert seg["end"] == pytest.approx(start + seconds, abs=0.06)
    assert result.text == " ".join(f"tone {f} hertz" for *_, f in TONES)
    assert result.duration == pytest.approx(60.0)


async def test_small_file_is_sent_as_is(fake_groq, tmp_path):
    path = write(tmp_path / "short.wav", tone_track([(0.2, 0.5, 440)], 1.0))
    pool = ClientPool()
    client = GroqClient(fake_groq.base_url, SecretStr(fake_groq.api_key), pool=pool)
    try:
        result = await transcribe_path(client, path, task="transcribe", model="whisper-large-v3")
    finally:
        await pool.aclose()
    assert result.text == "tone 440 hertz"
    assert fake_groq.requests_to("transcriptions")[0].file[1] == path.read_bytes()


def test_cli_subtitles_across_chunks(capsys, groq_env, long_file, monkeypatch):
    monkeypatch.setenv("VOICELOOP_HTTP__UPLOAD_LIMIT_MB", str(LIMIT / 1024 / 1024))
    assert main(["transcribe", str(long_file), "--format", "srt"]) == 0
    out = capsys.readouterr().out
    cues = re.findall(r"(\d+)\n(\d\d):(\d\d):(\d\d),(\d{3}) --> [\d:]+,\d{3}\n(.+)", out)
    assert [int(c[0]) for c in cues] == [1, 2, 3, 4, 5]
    starts = [
        int(h) * 3600 + int(m) * 60 + int(sec) + int(ms) / 1000 for _, h, m, sec, ms, _ in cues
    ]
    assert starts == pytest.approx([t[0] for t in TONES], abs=0.06)
    assert [c[-1] for c in cues] == [f"tone {f} hertz" for *_, f in TONES]
    assert len(groq_env.requests_to("transcriptions")) >= 4


def test_cli_shows_chunk_progress_on_a_terminal(capsys, groq_env, long_file, monkeypatch):
    import io
    import sys

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stderr = Tty()
    monkeypatch.setenv("VOICELOOP_HTTP__UPLOAD_LIMIT_MB", str(LIMIT / 1024 / 1024))
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["transcribe", str(long_file)]) == 0
    n = len(groq_env.requests_to("transcriptions"))
    assert f"minute.wav: chunk 1/{n}" in stderr.getvalue()
    assert f"minute.wav: chunk {n}/{n}\n" in stderr.getvalue()
    assert capsys.readouterr().out.startswith("tone 440 hertz")

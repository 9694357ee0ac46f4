"""``voiceloop transcribe`` of a long file keeps its chunks as a job: a failed chunk loses
nothing done, a re-run sends only what is missing, and ``retry --job`` finishes it.

A low upload limit forces chunking of a one-minute tone track; the loopback server answers
each tone as "tone <Hz> hertz" at its real time, so the merged transcript is predictable.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.fakegroq import Fault
from tests.fakegroq.sounds import tone_track, write
from voiceloop.cli import main
from voiceloop.store import DATA_DIR_ENV, Store

TONES = [(2.0, 1.0, 440), (14.0, 1.0, 550), (27.0, 1.2, 660), (41.0, 1.0, 770), (55.0, 1.5, 880)]
LIMIT_MB = 512 / 1024
TEXT = " ".join(f"tone {f} hertz" for *_, f in TONES)

pytestmark = pytest.mark.usefixtures("tones_are_speech")


@pytest.fixture
def long_file(tmp_path: Path) -> Path:
    # A faint noise floor (below the server's silence threshold) keeps FLAC above the limit.
    rng = np.random.default_rng(7)
    pcm = tone_track(TONES, 60.0) + rng.uniform(-0.003, 0.003, 960_000).astype(np.float32)
    return write(tmp_path / "minute.wav", pcm)


@pytest.fixture
def chunked(groq_env, monkeypatch):
    monkeypatch.setenv("VOICELOOP_HTTP__UPLOAD_LIMIT_MB", str(LIMIT_MB))
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "0")
    # The cloud's own failures are under test here, not the local engine they fall back to.
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")
    return groq_env


def _store() -> Store:
    return Store(Path(os.environ[DATA_DIR_ENV]))


def _cue_starts(subtitles: str, sep: str) -> list[tuple[float, str]]:
    pattern = rf"(\d\d):(\d\d):(\d\d){sep}(\d{{3}}) --> [\d:.,]+\n(.+)"
    return [
        (int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000, text)
        for h, m, s, ms, text in re.findall(pattern, subtitles)
    ]


def test_a_failed_chunk_keeps_the_rest_and_retry_job_finishes_it(
    chunked, long_file, tmp_path, capsys
) -> None:
    # The first two chunks go through, the third fails (500), nothing after it is sent.
    chunked.set_fault("transcriptions", None, None, Fault.http(500))  # type: ignore[arg-type]
    assert main(["transcribe", str(long_file)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    with _store() as store:
        [job] = store.jobs(unfinished=True)
    n = len(job.chunks)
    assert n >= 4 and len(chunked.requests_to("transcriptions")) == 3
    assert f"minute.wav: chunk 3/{n} failed; 2 done are kept" in err
    assert f"`voiceloop retry --job {job.id}` finishes it" in err
    assert job.status == "failed" and job.pending == list(range(2, n))
    assert [c.status for c in job.chunks[:3]] == ["done", "done", "failed"]
    assert "500" in (job.chunks[2].error or "") or "Server error" in (job.chunks[2].error or "")
    assert job.params["task"] == "transcribe" and job.params["model"]
    assert Path(job.source_path) == long_file.resolve()
    # The plan is what was sent: chunk 1 started at 0 s, chunk 2 inside chunk 1's end.
    assert job.chunks[0].start == 0.0 and job.chunks[1].start < job.chunks[0].end
    assert job.chunks[-1].end == pytest.approx(60.0)

    assert main(["history", "--failed"]) == 0
    assert f"voiceloop retry --job {job.id}" in capsys.readouterr().out

    srt = tmp_path / "minute.srt"
    assert main(["retry", "--job", str(job.id), "-o", str(srt)]) == 0
    assert len(chunked.requests_to("transcriptions")) == 3 + (n - 2)  # only what was missing
    with _store() as store:
        assert store.job(job.id).status == "done"
    cues = _cue_starts(srt.read_text(), ",")
    assert [text for _, text in cues] == [f"tone {f} hertz" for *_, f in TONES]
    assert [t for t, _ in cues] == pytest.approx([t[0] for t in TONES], abs=0.06)
    vtt = tmp_path / "minute.vtt"
    assert main(["retry", "--job", str(job.id), "-o", str(vtt)]) == 0
    assert _cue_starts(vtt.read_text(), r"\.") == cues
    assert main(["retry", "--job", str(job.id)]) == 0
    assert capsys.readouterr().out == TEXT + "\n"  # every tone once, none lost at a seam


def test_running_transcribe_again_sends_only_the_missing_chunks(chunked, long_file, capsys) -> None:
    chunked.set_fault("transcriptions", None, Fault.reset())  # type: ignore[arg-type]
    assert main(["transcribe", str(long_file)]) == 1
    capsys.readouterr()
    first = chunked.requests_to("transcriptions")
    assert len(first) == 2

    assert main(["transcribe", str(long_file), "--format", "vtt"]) == 0
    out, err = capsys.readouterr()
    with _store() as store:
        [job] = store.jobs()
    n = len(job.chunks)
    assert f"resuming job {job.id}, 1 of {n} chunks already done" in err
    second = chunked.requests_to("transcriptions")[2:]
    assert len(second) == n - 1
    assert first[1].file[1] == second[0].file[1]  # the failed chunk, sent again as it was
    assert job.status == "done" and job.pending == []
    cues = _cue_starts(out, r"\.")
    assert [text for _, text in cues] == [f"tone {f} hertz" for *_, f in TONES]
    assert [t for t, _ in cues] == pytest.approx([t[0] for t in TONES], abs=0.06)

    # Done means done: the next run is a fresh transcription with a new job.
    assert main(["transcribe", str(long_file)]) == 0
    assert capsys.readouterr().out == TEXT + "\n"
    with _store() as store:
        assert [j.status for j in store.jobs()] == ["done", "done"]


def test_a_changed_setting_starts_a_new_job(chunked, long_file, capsys) -> None:
    chunked.set_fault("transcriptions", None, Fault.http(500))  # type: ignore[arg-type]
    assert main(["transcribe", str(long_file)]) == 1
    assert main(["transcribe", str(long_file), "--model", "whisper-large-v3"]) == 0
    capsys.readouterr()
    with _store() as store:
        old, new = store.jobs()
    assert old.status == "failed" and new.status == "done"
    assert new.params["model"] == "whisper-large-v3"
    assert len(chunked.requests_to("transcriptions")) == 2 + len(new.chunks)


def test_progress_on_a_terminal_counts_kept_chunks(chunked, long_file, monkeypatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    chunked.set_fault("transcriptions", None, Fault.http(500))  # type: ignore[arg-type]
    assert main(["transcribe", str(long_file)]) == 1
    stderr = Tty()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["transcribe", str(long_file)]) == 0
    with _store() as store:
        n = len(store.jobs()[0].chunks)
    assert f"minute.wav: chunk 1/{n}" in stderr.getvalue()
    assert f"minute.wav: chunk {n}/{n}\n" in stderr.getvalue()


def test_a_small_file_makes_no_job(groq_env, tmp_path, capsys) -> None:
    path = write(tmp_path / "short.wav", tone_track([(0.2, 0.5, 440)], 1.0))
    assert main(["transcribe", str(path)]) == 0
    assert capsys.readouterr().out == "tone 440 hertz\n"
    assert not Path(os.environ[DATA_DIR_ENV]).exists()


def test_without_a_store_a_long_file_is_still_transcribed(chunked, long_file, monkeypatch, capsys):
    monkeypatch.setenv("VOICELOOP_STORE__ENABLED", "false")
    assert main(["transcribe", str(long_file)]) == 0
    assert capsys.readouterr().out == TEXT + "\n"
    assert not Path(os.environ[DATA_DIR_ENV]).exists()


THIRTY_MINUTES = 30 * 60


@pytest.mark.slow
def test_a_thirty_minute_recording_end_to_end(groq_env, tmp_path, capsys) -> None:
    """Half an hour of 16 kHz FLAC, a distinct tone every 20 s over a faint noise floor
    (about 29 MB, above the default 24 MB limit): ten-minute chunks, merged."""
    starts = np.arange(5.0, THIRTY_MINUTES - 5, 20.0)
    freqs = [200 + 10 * (i % 150) for i in range(len(starts))]
    events = [(float(s), 1.0, float(f)) for s, f in zip(starts, freqs, strict=True)]
    rng = np.random.default_rng(3)
    pcm = tone_track(events, THIRTY_MINUTES)
    pcm += rng.uniform(-0.003, 0.003, len(pcm)).astype(np.float32)
    path = write(tmp_path / "half-hour.flac", pcm, fmt="FLAC")
    assert path.stat().st_size > 24 * 1024 * 1024
    t0 = time.monotonic()
    out_srt = tmp_path / "half-hour.srt"
    assert main(["transcribe", str(path), "--format", "srt", "-o", str(out_srt)]) == 0
    elapsed = time.monotonic() - t0
    cues = _cue_starts(out_srt.read_text(), ",")
    assert [t for t, _ in cues] == pytest.approx([e[0] for e in events], abs=0.06)
    assert [text for _, text in cues] == [f"tone {int(e[2])} hertz" for e in events]
    with _store() as store:
        [job] = store.jobs()
    assert job.status == "done" and len(job.chunks) >= 3
    print(f"30 min: {path.stat().st_size} bytes, {len(job.chunks)} chunks, {elapsed:.1f} s")
    assert elapsed < 120, elapsed


def test_a_long_translation_is_kept_and_finished_as_a_translation(
    chunked, long_file, capsys
) -> None:
    chunked.set_fault("translations", Fault.http(500))
    assert main(["translate", str(long_file)]) == 1
    assert "voiceloop retry --job 1" in capsys.readouterr().err
    with _store() as store:
        job = store.job(1)
    assert job.params["task"] == "translate" and job.params["model"] == "whisper-large-v3"
    assert "language" not in job.params  # translations take none
    assert main(["retry", "--job", "1"]) == 0
    assert capsys.readouterr().out == " ".join(f"English: tone {f} hertz" for *_, f in TONES) + "\n"
    uploads = chunked.requests_to("translations")
    assert len(uploads) == 1 + len(job.chunks) and chunked.requests_to("transcriptions") == []

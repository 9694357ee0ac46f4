"""Chunked jobs: partial results kept chunk by chunk and found again to resume."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.store_helpers import FakeClock
from voiceloop.errors import StoreError
from voiceloop.store import Store
from voiceloop.store.jobs import merged_transcript


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "talk.flac"
    path.write_bytes(b"pretend audio" * 100)
    return path


def test_partial_result_survives_and_resumes(tmp_path: Path, source: Path) -> None:
    params = {"model": "whisper-large-v3-turbo", "task": "transcribe"}
    plan = [(0.0, 600.0), (590.0, 1200.0), (1190.0, 1800.0)]
    with Store(tmp_path / "data", clock=FakeClock()) as store:
        job_id = store.create_job(source, plan, params=params)
        store.update_chunk(job_id, 0, status="done", text="first part", result={"segments": []})
        store.update_chunk(
            job_id, 1, status="failed", error="Server error 503\nbody with gsk_abcdefghijklmnop"
        )
        store.finish_job(job_id, status="failed", error="chunk 2 of 3 failed")

    with Store(tmp_path / "data") as store:
        job = store.find_job(source, params=params)
        assert job is not None and job.id == job_id
        assert job.status == "failed"
        assert job.pending == [1, 2]
        assert merged_transcript(job).text == "first part"
        assert [(c.start, c.end) for c in job.chunks] == plan
        assert job.chunks[0].result == {"segments": []}
        assert job.chunks[1].error == "Server error 503"
        assert store.find_job(source, params={**params, "model": "other"}) is None

        store.update_chunk(job_id, 1, status="done", text="second part")
        store.update_chunk(job_id, 2, status="done", text="third part")
        store.finish_job(job_id)
        done = store.job(job_id)
        assert done.pending == [] and done.status == "done"
        assert merged_transcript(done).text == "first part second part third part"
        assert store.find_job(source) is None  # finished jobs are not resumed
        assert store.jobs(unfinished=True) == []


def test_a_changed_source_is_not_resumed(tmp_path: Path, source: Path) -> None:
    with Store(tmp_path / "data") as store:
        store.create_job(source, [(0.0, 10.0)])
        assert store.find_job(source) is not None
        stat = source.stat()
        os.utime(source, (stat.st_atime, stat.st_mtime + 100))
        assert store.find_job(source) is None


def test_unknown_job(tmp_path: Path) -> None:
    with Store(tmp_path) as store, pytest.raises(StoreError, match="no job 3"):
        store.job(3)


def test_bad_chunk_status(tmp_path: Path, source: Path) -> None:
    with Store(tmp_path / "data") as store:
        job_id = store.create_job(source, [(0.0, 10.0)])
        with pytest.raises(ValueError):
            store.update_chunk(job_id, 0, status="maybe")


def _words(text: str, start: float, step: float = 0.5) -> list[dict]:
    return [
        {"start": start + i * step, "end": start + i * step + 0.4, "word": w}
        for i, w in enumerate(text.split())
    ]


def test_merged_transcript_joins_overlapping_chunks_once(tmp_path: Path, source: Path) -> None:
    with Store(tmp_path / "data") as store:
        job_id = store.create_job(source, [(0.0, 4.0), (2.5, 6.0)])
        # Chunk 1 hears 0-4 s; chunk 2 starts at 2.5 s, so "jumps over" is heard twice.
        first = "the quick brown fox jumps over"
        second = "jumps over the lazy dog"
        store.update_chunk(job_id, 0, status="done", text=first,
                           result={"words": _words(first, 0.5)})  # fmt: skip
        store.update_chunk(job_id, 1, status="done", text=second,
                           result={"words": _words(second, 0.0)})  # fmt: skip
        merged = merged_transcript(store.job(job_id))
    assert merged.text == "the quick brown fox jumps over the lazy dog"
    assert merged.words[-1].word == "dog"
    assert merged.words[-1].start == pytest.approx(2.5 + 2.0)  # file time, not chunk time

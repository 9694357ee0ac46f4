"""The history commands end to end: history, export, forget, retry (with a fake transcriber)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.unit.store_helpers import tone_flac
from voiceloop.cli import main
from voiceloop.errors import ConnectError, ServerError
from voiceloop.frames import Transcript, Utterance
from voiceloop.stages import registry
from voiceloop.store import DATA_DIR_ENV, Store

REPO = Path(__file__).resolve().parents[2]


class FakeTranscriber:
    """Says how much audio it got, so a test can tell the kept recording was sent."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[Utterance, str]] = []
        self.closed = False

    async def transcribe(self, utterance: Utterance, *, task: str = "transcribe") -> Transcript:
        self.calls.append((utterance, task))
        if self.fail is not None:
            raise self.fail
        return Transcript(
            text=f"{task}d {len(utterance.pcm)} samples",
            provider="fake",
            model="fake-whisper",
            language="en",
        )

    async def aclose(self) -> None:
        self.closed = True


class FakeResponder:
    async def respond(self, messages):
        for piece in ["You said: ", messages[-1].content]:
            yield piece


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(path))
    monkeypatch.setenv("VOICELOOP_CONFIG", str(tmp_path / "no-config.toml"))
    return path


@pytest.fixture
def fake():
    made: dict[str, object] = {"transcriber": FakeTranscriber()}

    def factory(kind, section, context):
        assert section.provider == "fake"
        if kind == "responder":
            return FakeResponder()
        return made["transcriber"]

    registry.register("fake", factory)
    yield made
    registry._factories.pop("fake", None)


def _seed(data_dir: Path) -> dict[str, int]:
    with Store(data_dir) as store:
        talk = store.open_session("converse")
        ok, _ = store.begin_turn(talk, "converse", tone_flac(1.0), duration=1.0)
        store.update_turn(
            ok, transcript="remind me to buy oranges", reply="Noted.", status="answered"
        )
        bad, _ = store.begin_turn(talk, "converse", tone_flac(0.5), duration=0.5)
        store.update_turn(bad, status="failed", error="Connection failed — check the network")
        trip = store.open_session("translate")
        tr, _ = store.begin_turn(trip, "translate", tone_flac(0.75), duration=0.75)
        store.update_turn(tr, status="failed", error="Server error")
    return {"talk": talk, "ok": ok, "bad": bad, "trip": trip, "tr": tr}


def test_history_lists_sessions_and_turns(data_dir: Path, capsys) -> None:
    ids = _seed(data_dir)
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert f"Session {ids['talk']} · converse" in out
    assert "remind me to buy oranges" in out and "→ Noted." in out
    assert f"voiceloop retry {ids['bad']}" in out

    assert main(["history", "--search", "ORANGES"]) == 0
    out = capsys.readouterr().out
    assert "oranges" in out and "Connection failed" not in out

    assert main(["history", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "Connection failed" in out and "oranges" not in out

    assert main(["history", "--session", str(ids["trip"])]) == 0
    out = capsys.readouterr().out
    assert "translate" in out and "oranges" not in out

    assert main(["history", "--last", "1"]) == 0
    out = capsys.readouterr().out
    assert f"Session {ids['trip']}" in out and f"Session {ids['talk']}" not in out


def test_history_on_an_empty_store(data_dir: Path, capsys) -> None:
    assert main(["history"]) == 0
    assert "No history yet." in capsys.readouterr().out


def test_unknown_session_is_one_line_and_exit_2(data_dir: Path, capsys) -> None:
    _seed(data_dir)
    for argv in (["history", "--session", "99"], ["export", "99", "--format", "md"],
                 ["forget", "99", "--yes"], ["retry", "99"]):  # fmt: skip
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "99" in err, argv


def test_bad_usage_exits_2(data_dir: Path, capsys) -> None:
    for argv in (["export", "--format", "md"], ["export", "1", "--format", "doc"],
                 ["history", "--session", "abc"], ["forget"], ["retry"]):  # fmt: skip
        assert main(argv) == 2, argv
        assert "voiceloop:" in capsys.readouterr().err, argv


def test_export_to_a_file(data_dir: Path, tmp_path: Path, capsys) -> None:
    ids = _seed(data_dir)
    out = tmp_path / "all.json"
    assert main(["export", "--all", "--format", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [s["id"] for s in data["sessions"]] == [ids["talk"], ids["trip"]]
    assert main(["export", str(ids["talk"]), "--format", "txt"]) == 0
    assert "remind me to buy oranges" in capsys.readouterr().out


def test_forget_needs_confirmation(data_dir: Path, monkeypatch, capsys) -> None:
    ids = _seed(data_dir)
    with open(os.devnull) as not_a_terminal:
        monkeypatch.setattr(sys, "stdin", not_a_terminal)
        assert main(["forget", str(ids["talk"])]) == 2
    assert "--yes" in capsys.readouterr().err

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["forget", str(ids["talk"])]) == 0
    with Store(data_dir) as store:
        assert len(store.turns(session_id=ids["talk"])) == 2

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["forget", str(ids["talk"])]) == 0
    with Store(data_dir) as store:
        assert [s.id for s in store.sessions()] == [ids["trip"]]
    assert main(["forget", "--all", "--yes"]) == 0
    with Store(data_dir) as store:
        assert store.sessions() == []
        assert list(store.recordings.iterdir()) == []


def test_retry_after_a_network_failure(data_dir: Path, fake, capsys) -> None:
    ids = _seed(data_dir)
    fake["transcriber"] = FakeTranscriber(fail=ConnectError("could not reach the server"))
    assert main(["retry", str(ids["bad"]), "--provider", "fake"]) == 1
    assert "could not reach the server" in capsys.readouterr().err
    with Store(data_dir) as store:
        turn = store.turn(ids["bad"])
        assert turn.status == "failed" and turn.error == "could not reach the server"
        assert turn.audio_path is not None and turn.audio_path.exists()

    fake["transcriber"] = transcriber = FakeTranscriber()
    argv = ["retry", str(ids["bad"]), "--provider", "fake", "--llm-provider", "fake"]
    assert main(argv) == 0
    utterance, task = transcriber.calls[0]
    with Store(data_dir) as store:
        turn = store.turn(ids["bad"])
        assert utterance.flac == turn.audio_path.read_bytes()  # the kept bytes, not re-encoded
        assert task == "transcribe" and len(utterance.pcm) == 8000
        assert utterance.pcm.dtype == np.int16 and utterance.sample_rate == 16_000
        assert turn.status == "answered" and turn.error is None
        assert turn.transcript == "transcribed 8000 samples"
        assert turn.reply == "You said: transcribed 8000 samples"
        assert turn.providers["stt"] == "fake" and turn.models["stt"] == "fake-whisper"
    assert transcriber.closed


def test_retry_all_failed_covers_translate_and_reask(
    data_dir: Path, fake, capsys, monkeypatch
) -> None:
    ids = _seed(data_dir)
    argv = ["retry", "--all-failed", "--provider", "fake", "--llm-provider", "fake"]
    assert main(argv) == 0
    with Store(data_dir) as store:
        assert store.turns(failed=True, unfinished=True) == []
        translated = store.turn(ids["tr"])
        assert translated.translation == "translated 12000 samples"
        assert translated.status == "transcribed"
        assert store.turn(ids["ok"]).transcript == "remind me to buy oranges"  # untouched
    assert main(argv) == 0
    assert "Nothing to retry" in capsys.readouterr().out

    monkeypatch.setenv("VOICELOOP_LLM__PROVIDER", "not-installed")
    assert main(["retry", str(ids["bad"]), "--provider", "fake", "--reask"]) == 1
    assert "unknown responder provider 'not-installed'" in capsys.readouterr().err
    with Store(data_dir) as store:  # the new transcript is kept although the re-ask failed
        assert store.turn(ids["bad"]).transcript == "transcribed 8000 samples"
        assert store.turn(ids["bad"]).status == "failed"

    argv = ["retry", str(ids["bad"]), "--provider", "fake", "--reask", "--llm-provider", "fake"]
    assert main(argv) == 0
    with Store(data_dir) as store:
        turn = store.turn(ids["bad"])
        assert turn.status == "answered"
        assert turn.reply == "You said: transcribed 8000 samples"


class FailingResponder:
    async def respond(self, messages):
        yield "Half an ans"
        raise ServerError("Server error (HTTP 500) after 3 tries")


def test_retry_of_a_converse_turn_whose_reply_failed_asks_again(
    data_dir: Path, fake, capsys, monkeypatch
) -> None:
    with Store(data_dir) as store:
        talk = store.open_session("converse")
        turn_id, _ = store.begin_turn(talk, "converse", tone_flac(0.5), duration=0.5)
        store.update_turn(turn_id, transcript="what time is it", status="transcribed")
        store.update_turn(turn_id, status="failed", error="Server error: the reply failed")
    argv = ["retry", "--all-failed", "--provider", "fake", "--llm-provider", "fake"]

    monkeypatch.setitem(fake, "transcriber", FakeTranscriber())
    real = registry._factories["fake"]

    def failing(kind, section, context):
        return FailingResponder() if kind == "responder" else real(kind, section, context)

    registry.register("fake", failing)
    assert main(argv) == 1  # the words came back but the question was not answered
    assert "HTTP 500" in capsys.readouterr().err
    with Store(data_dir) as store:
        turn = store.turn(turn_id)
        assert turn.status == "failed" and turn.transcript == "transcribed 8000 samples"
        assert [t.id for t in store.turns(failed=True)] == [turn_id]
    assert main(["history", "--failed"]) == 0
    assert f"#{turn_id}" in capsys.readouterr().out

    registry.register("fake", real)
    assert main(argv) == 0
    with Store(data_dir) as store:
        turn = store.turn(turn_id)
        assert turn.status == "answered" and turn.error is None
        assert turn.reply == "You said: transcribed 8000 samples"
        assert store.turns(failed=True, unfinished=True) == []


def test_a_converse_turn_cut_before_its_answer_is_unfinished(data_dir: Path, fake, capsys) -> None:
    with Store(data_dir) as store:  # transcribed, then the process went before the reply
        talk = store.open_session("converse")
        turn_id, _ = store.begin_turn(talk, "converse", None, duration=0.5)
        store.update_turn(turn_id, transcript="what time is it", status="transcribed")
        assert store.turn(turn_id).in_progress  # its owner still runs
    with Store(data_dir) as store:
        assert store.turn(turn_id).unfinished
        assert [t.id for t in store.turns(unfinished=True)] == [turn_id]
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "UNFINISHED" in out and "transcribed" not in out.split(f"#{turn_id}")[1][:30]
    # No audio was kept, but the words were: the question is asked again.
    assert main(["retry", "--all-failed", "--llm-provider", "fake"]) == 0
    with Store(data_dir) as store:
        turn = store.turn(turn_id)
        assert turn.status == "answered" and turn.reply == "You said: what time is it"


def test_retry_follows_the_configured_retention(data_dir: Path, fake, monkeypatch) -> None:
    ids = _seed(data_dir)
    monkeypatch.setenv("VOICELOOP_STORE__KEEP_AUDIO", "none")
    argv = ["retry", str(ids["bad"]), "--provider", "fake", "--llm-provider", "fake"]
    assert main(argv) == 0
    with Store(data_dir) as store:
        turn = store.turn(ids["bad"])
        assert turn.status == "answered" and turn.audio_path is None
        assert not (data_dir / "recordings" / str(ids["talk"]) / f"{ids['bad']}.flac").exists()
        assert store.turn(ids["tr"]).audio_path is not None  # still failed: kept


def test_retry_reports_a_bad_config_in_one_line(data_dir: Path, fake, monkeypatch, capsys) -> None:
    ids = _seed(data_dir)
    monkeypatch.setenv("VOICELOOP_STORE__KEEP_AUDIO", "sometimes")
    assert main(["retry", str(ids["bad"]), "--provider", "fake"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "keep_audio" in err


def test_retry_without_audio_is_refused(data_dir: Path, fake, capsys) -> None:
    with Store(data_dir) as store:
        session = store.open_session("dictate")
        turn_id, _ = store.begin_turn(session, "dictate", None, duration=1.0)
        store.update_turn(turn_id, status="failed", error="x")
    assert main(["retry", str(turn_id), "--provider", "fake"]) == 2
    assert "no kept recording" in capsys.readouterr().err


CHILD = textwrap.dedent(
    """
    import sys, time
    from tests.unit.store_helpers import tone_flac
    from voiceloop.store import Store

    store = Store()
    session = store.open_session("dictate")
    turn_id, audio = store.begin_turn(session, "dictate", tone_flac(1.25), duration=1.25)
    print(turn_id, audio, flush=True)
    time.sleep(60)  # "waiting for the transcription" when the kill comes
    """
)


def test_sigkill_mid_turn_then_retry_completes_it(data_dir: Path, fake, capsys) -> None:
    env = {**os.environ, DATA_DIR_ENV: str(data_dir)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    turn_id_text, audio = line.split()
    turn_id = int(turn_id_text)

    with Store(data_dir) as store:
        turn = store.turn(turn_id)
        assert turn.unfinished and turn.status == "captured"
        assert turn.audio_path == Path(audio) and turn.audio_path.exists()
        assert [t.id for t in store.turns(unfinished=True)] == [turn_id]

    assert main(["history", "--unfinished"]) == 0
    out = capsys.readouterr().out
    assert "UNFINISHED" in out and f"voiceloop retry {turn_id}" in out

    assert main(["retry", "--all-failed", "--provider", "fake"]) == 0
    with Store(data_dir) as store:
        turn = store.turn(turn_id)
        assert turn.status == "transcribed" and not turn.unfinished
        assert turn.transcript == "transcribed 20000 samples"
        assert store.turns(unfinished=True) == []


def test_help_has_examples_and_imports_nothing_heavy() -> None:
    code = textwrap.dedent(
        """
        import contextlib, io, sys
        from voiceloop.cli import main
        for name in ("history", "export", "forget", "retry"):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main([name, "--help"])
            print(name, "examples:" in out.getvalue(), f"voiceloop {name}" in out.getvalue())
        heavy = [m for m in ("numpy", "httpx", "textual", "soundfile") if m in sys.modules]
        print("HEAVY", heavy)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout
    for name in ("history", "export", "forget", "retry"):
        assert f"{name} True True" in result.stdout


SENTINEL = "SENTINEL-7f3a9c-not-shaped-like-a-key"


def test_keys_never_reach_the_database_exports_or_output(
    data_dir: Path, tmp_path: Path, monkeypatch, capfd
) -> None:
    """Even a provider that puts the key in its error message cannot make us store it."""
    ids = _seed(data_dir)
    monkeypatch.setenv("GROQ_API_KEY", SENTINEL)
    monkeypatch.setenv("VOICELOOP_TRANSLATE__API_KEY", SENTINEL[::-1])

    def leaky(kind, section, context):
        key = context.settings.stage_key(section).get_secret_value()
        return FakeTranscriber(fail=ConnectError(f"cannot reach host with key {key}"))

    registry.register("leaky", leaky)
    try:
        assert main(["retry", "--all-failed", "--provider", "leaky"]) == 1
    finally:
        registry._factories.pop("leaky", None)
    assert main(["history", "--full"]) == 0
    for fmt in ("md", "json", "txt", "srt", "vtt"):
        assert main(["export", "--all", "--format", fmt, "-o", str(tmp_path / f"x.{fmt}")]) == 0
    out, err = capfd.readouterr()
    assert "cannot reach host with key ***" in err  # the failure is still reported
    with Store(data_dir) as store:
        assert store.turn(ids["bad"]).error == "cannot reach host with key ***"
        assert store.turn(ids["tr"]).error == "cannot reach host with key ***"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "history.sqlite3" for p in files)
    for secret in (SENTINEL, SENTINEL[::-1]):
        assert secret not in out and secret not in err
        for path in files:
            assert secret.encode() not in path.read_bytes(), path


def _wav(path: Path, seconds: float) -> Path:
    import soundfile

    rate = 16_000
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, (0.2 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), rate)
    return path


def test_retry_finishes_a_long_transcription(data_dir: Path, tmp_path: Path, fake, capsys):
    source = _wav(tmp_path / "lecture.wav", 3.0)
    params = {"task": "transcribe", "model": "whisper-large-v3-turbo", "language": "en"}
    with Store(data_dir) as store:
        job_id = store.create_job(source, [(0.0, 1.0), (0.9, 2.0), (1.9, 3.0)], params=params)
        store.update_chunk(job_id, 0, status="done", text="kept from before")
        store.update_chunk(job_id, 1, status="failed", error="Server error")
        store.finish_job(job_id, status="failed", error="chunk 2 failed")

    fake["transcriber"] = FakeTranscriber(fail=ConnectError("offline"))
    assert main(["retry", "--all-failed", "--provider", "fake"]) == 1
    with Store(data_dir) as store:
        job = store.job(job_id)
        assert job.status == "failed" and job.pending == [1, 2]
        assert job.chunks[0].text == "kept from before"  # a failure loses nothing done
        assert job.chunks[1].error == "offline"

    assert main(["history", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "lecture.wav  1/3 chunks done" in out and f"voiceloop retry --job {job_id}" in out

    fake["transcriber"] = transcriber = FakeTranscriber()
    assert main(["retry", "--job", str(job_id), "--provider", "fake"]) == 0
    out, err = capsys.readouterr()
    assert f"job {job_id}: done" in err
    assert out == "kept from before transcribed 17600 samples\n"  # the merged transcript
    assert [len(u.pcm) for u, _ in transcriber.calls] == [17600, 17600]  # chunks 2 and 3 only
    assert all(u.flac and u.flac.startswith(b"fLaC") for u, _ in transcriber.calls)
    with Store(data_dir) as store:
        job = store.job(job_id)
        assert job.status == "done" and job.pending == []
        assert [c.text for c in job.chunks] == [
            "kept from before",
            "transcribed 17600 samples",
            "transcribed 17600 samples",
        ]
        assert job.chunks[1].result["model"] == "fake-whisper"
    srt = tmp_path / "lecture.srt"
    assert main(["retry", "--job", str(job_id), "-o", str(srt)]) == 0  # done: just written
    assert not transcriber.calls[2:]
    assert srt.exists()
    assert main(["history"]) == 0
    assert "lecture.wav" not in capsys.readouterr().out


def test_a_finished_job_is_written_as_timed_subtitles(data_dir: Path, tmp_path: Path) -> None:
    from tests.unit.test_store_export import parse_cues

    source = _wav(tmp_path / "talk.wav", 1.0)
    with Store(data_dir) as store:
        job_id = store.create_job(source, [(0.0, 600.0), (590.0, 1200.0)])
        store.update_chunk(job_id, 0, status="done", text="Opening words.",
                           result={"segments": [{"start": 1.0, "end": 3.0,
                                                 "text": "Opening words."}]})  # fmt: skip
        store.update_chunk(job_id, 1, status="done", text="Closing words.",
                           result={"segments": [{"start": 100.0, "end": 102.5,
                                                 "text": "Closing words."}]})  # fmt: skip
        store.finish_job(job_id)
    srt = tmp_path / "talk.srt"
    assert main(["retry", "--job", str(job_id), "-o", str(srt)]) == 0
    cues = parse_cues(srt.read_text())
    assert cues == [(1.0, 3.0, "Opening words."), (690.0, 692.5, "Closing words.")]
    as_json = tmp_path / "talk.json"
    assert main(["retry", "--job", str(job_id), "-o", str(as_json)]) == 0
    assert json.loads(as_json.read_text())["text"] == "Opening words. Closing words."

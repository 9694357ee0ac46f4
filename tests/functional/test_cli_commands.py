"""The headless commands end to end: argv in, stdout/stderr/exit code out, fake server behind."""

from __future__ import annotations

import io
import json

import pytest
import soundfile as sf

from tests.fakegroq import Fault
from tests.fakegroq.sounds import espeak, silence, tone, tone_track, write
from voiceloop.cli import main


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tones(tmp_path):
    return write(tmp_path / "tones.wav", tone_track([(0.5, 1.0, 440), (2.5, 1.0, 880)], 4.0))


# -- transcribe ---------------------------------------------------------------------------


def test_transcribe_prints_text(capsys, groq_env, tones):
    code, out, _err = run(capsys, "transcribe", str(tones))
    assert (code, out) == (0, "tone 440 hertz tone 880 hertz\n")
    sent = groq_env.requests_to("transcriptions")[0]
    assert sent.form["model"] == ["whisper-large-v3-turbo"]
    assert sent.file[0] == "tones.wav" and sent.file[2] == "audio/wav"


def test_transcribe_options_are_sent(capsys, groq_env, tones):
    code, _, _ = run(capsys, "transcribe", str(tones), "--language", "fr", "--prompt",
                     "Zoë", "--model", "whisper-large-v3")  # fmt: skip
    assert code == 0
    form = groq_env.requests_to("transcriptions")[0].form
    assert form["language"] == ["fr"] and form["prompt"] == ["Zoë"]
    assert form["model"] == ["whisper-large-v3"]


@pytest.mark.parametrize("task", ["transcribe", "translate"])
def test_a_prompt_reaches_the_local_engine_in_its_section(capsys, groq_env, tones, monkeypatch,
                                                          task):  # fmt: skip
    from voiceloop.frames import Transcript
    from voiceloop.stages import registry

    heard = []

    class Local:
        def __init__(self, section):
            self.section = section

        async def transcribe(self, utterance, *, task="transcribe"):
            heard.append((self.section.prompt, task))
            return Transcript(text="tone")

    registry.names()  # the entry points are loaded first: the stand-in stays registered
    monkeypatch.setitem(registry._factories, "local", lambda kind, section, ctx: Local(section))
    code, out, _ = run(capsys, task, str(tones), "--local", "--prompt", "Zoë")
    assert code == 0 and "tone" in out
    assert heard and set(heard) == {("Zoë", task)}
    assert not groq_env.requests_to("transcriptions") and not groq_env.requests_to("translations")


def test_transcribe_json_and_verbose_json(capsys, groq_env, tones):
    code, out, _ = run(capsys, "transcribe", str(tones), "--format", "json")
    assert code == 0 and json.loads(out) == {"text": "tone 440 hertz tone 880 hertz"}
    code, out, _ = run(capsys, "transcribe", str(tones), "--format", "verbose_json")
    body = json.loads(out)
    assert [(s["start"], s["end"]) for s in body["segments"]] == [(0.5, 1.5), (2.5, 3.5)]
    assert body["language"] == "english"


def test_transcribe_srt_and_vtt_timing(capsys, groq_env, tones):
    code, out, _ = run(capsys, "transcribe", str(tones), "--format", "srt")
    assert code == 0
    assert "1\n00:00:00,500 --> 00:00:01,500\ntone 440 hertz\n" in out
    assert "2\n00:00:02,500 --> 00:00:03,500\ntone 880 hertz\n" in out
    code, out, _ = run(capsys, "transcribe", str(tones), "--format", "vtt")
    assert out.startswith("WEBVTT") and "00:00:02.500 --> 00:00:03.500" in out


def test_transcribe_to_file_and_several_files_to_a_directory(capsys, groq_env, tmp_path, tones):
    other = write(tmp_path / "other.flac", tone(660, 1.0), fmt="FLAC")
    out_file = tmp_path / "t.txt"
    code, out, _err = run(capsys, "transcribe", str(tones), "-o", str(out_file))
    assert code == 0 and out == "" and out_file.read_text() == "tone 440 hertz tone 880 hertz\n"
    out_dir = tmp_path / "subs"
    code, out, _ = run(capsys, "transcribe", str(tones), str(other), "--format", "srt",
                       "-o", str(out_dir))  # fmt: skip
    assert code == 0
    assert "tone 660 hertz" in (out_dir / "other.srt").read_text()
    assert "tone 880 hertz" in (out_dir / "tones.srt").read_text()


def test_transcribe_any_soundfile_format_is_accepted(capsys, groq_env, tmp_path):
    aiff = write(tmp_path / "clip.aiff", tone(330, 1.0), fmt="AIFF")
    code, out, _ = run(capsys, "transcribe", str(aiff))
    assert (code, out) == (0, "tone 330 hertz\n")
    # Groq does not take AIFF: it was decoded and sent as FLAC.
    assert groq_env.requests_to("transcriptions")[0].file[1][:4] == b"fLaC"


def test_transcribe_espeak_speech(capsys, groq_env, tmp_path):
    path = espeak(tmp_path / "speech.wav", "Hello from the test bench.")
    code, out, _ = run(capsys, "transcribe", str(path), "--format", "verbose_json")
    assert code == 0
    body = json.loads(out)
    assert body["segments"] and body["segments"][0]["text"].startswith(" tone ")
    assert float(body["duration"]) == pytest.approx(sf.info(str(path)).duration, abs=0.05)


def test_transcribe_silence_gives_empty_text_not_a_phantom(capsys, groq_env, tmp_path):
    path = write(tmp_path / "quiet.wav", silence(2.0))
    code, out, err = run(capsys, "transcribe", str(path))
    assert (code, out) == (3, "\n")  # no speech found: its own exit code
    assert "no speech found" in err


def test_missing_file_is_bad_usage(capsys, groq_env, tmp_path):
    code, out, err = run(capsys, "transcribe", str(tmp_path / "nope.wav"))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no such file" in err
    assert groq_env.requests == []


def test_undecodable_file_is_bad_usage(capsys, groq_env, tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    code, _, err = run(capsys, "transcribe", str(junk))
    assert code == 2 and "cannot decode" in err and len(err.strip().splitlines()) == 1
    assert groq_env.requests == []


def test_wrong_key_is_one_line_exit_1(capsys, groq_env, tones, monkeypatch):
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")  # the failure itself
    monkeypatch.setenv("GROQ_API_KEY", "gsk_wrong_key_value")
    code, out, err = run(capsys, "transcribe", str(tones))
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "Invalid API Key" in err and "GROQ_API_KEY" in err
    assert "gsk_wrong_key_value" not in err


def test_no_key_translation_of_a_file_says_what_it_needs(capsys, groq_env, tones, monkeypatch):
    # Transcription with no key runs locally (tests/local/test_no_key.py); translation
    # cannot with the English-only embedded model, and says what would let it.
    monkeypatch.delenv("GROQ_API_KEY")
    code, _, err = run(capsys, "translate", str(tones))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "GROQ_API_KEY" in err and "[local] stt_model" in err
    assert groq_env.requests == []


def test_unreachable_server_is_one_line_exit_1(capsys, groq_env, tones, monkeypatch):
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")  # the failure itself
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GROQ_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "0")
    code, out, err = run(capsys, "transcribe", str(tones))
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "cannot connect" in err


def test_key_refused_over_plain_http_to_a_remote_host(capsys, groq_env, tones, monkeypatch):
    monkeypatch.setenv("GROQ_BASE_URL", "http://speech.example.test")
    code, _, err = run(capsys, "transcribe", str(tones))
    assert code == 2 and "plain HTTP" in err


def test_service_failure_after_retries(capsys, groq_env, tones, monkeypatch):
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")  # the failure itself
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "1")
    groq_env.set_fault("transcriptions", Fault.http(500), Fault.http(500))
    code, _, err = run(capsys, "transcribe", str(tones))
    assert code == 1 and "HTTP 500" in err
    assert len(groq_env.requests_to("transcriptions")) == 2


# -- translate ----------------------------------------------------------------------------


def test_translate(capsys, groq_env, tones):
    code, out, _ = run(capsys, "translate", str(tones))
    assert (code, out) == (0, "English: tone 440 hertz English: tone 880 hertz\n")
    sent = groq_env.requests_to("translations")[0]
    assert sent.form["model"] == ["whisper-large-v3"] and "language" not in sent.form


def test_translate_srt(capsys, groq_env, tones):
    code, out, _ = run(capsys, "translate", str(tones), "--format", "srt")
    assert code == 0 and "00:00:02,500 --> 00:00:03,500\nEnglish: tone 880 hertz" in out


def test_translate_with_turbo_gets_a_clear_hint(capsys, groq_env, tones):
    code, _, err = run(capsys, "translate", str(tones), "--model", "whisper-large-v3-turbo")
    assert code == 1 and "translation needs whisper-large-v3" in err


def test_decommissioned_model_points_to_models_command(capsys, groq_env, tones):
    code, _, err = run(capsys, "transcribe", str(tones), "--model", "distil-whisper-large-v3-en")
    assert code == 1 and "decommissioned" in err and "voiceloop models" in err


# -- say ----------------------------------------------------------------------------------


def test_say_writes_a_wav(capsys, groq_env, tmp_path):
    out_path = tmp_path / "hello.wav"
    code, out, _err = run(capsys, "say", "Hello there.", "-o", str(out_path), "--voice", "daniel")
    assert code == 0 and out == ""
    pcm, rate = sf.read(str(out_path))
    assert rate == 48_000 and len(pcm) / rate == pytest.approx(0.24, abs=0.01)
    assert groq_env.requests_to("speech")[0].json["voice"] == "daniel"


def test_say_long_text_from_stdin_is_split_and_joined(capsys, groq_env, tmp_path, monkeypatch):
    text = " ".join(f"Sentence {i} is here to make the text long enough." for i in range(10))
    out_path = tmp_path / "long.wav"
    code, _, _ = run(capsys, "say", "-", "-o", str(out_path), stdin=text, monkeypatch=monkeypatch)
    assert code == 0
    inputs = [r.json["input"] for r in groq_env.requests_to("speech")]
    assert len(inputs) >= 3 and all(len(i) <= 200 for i in inputs)
    info = sf.info(str(out_path))
    assert info.duration == pytest.approx(sum(len(i) for i in inputs) * 0.02, abs=0.02)


def test_say_keeps_the_servers_real_rate(capsys, groq_env, tmp_path):
    groq_env.speech_rate = 24_000
    out_path = tmp_path / "r.wav"
    assert run(capsys, "say", "Rate check.", "-o", str(out_path))[0] == 0
    assert sf.info(str(out_path)).samplerate == 24_000


def test_say_empty_text_is_bad_usage(capsys, groq_env, tmp_path, monkeypatch):
    code, _, err = run(capsys, "say", "-", "-o", str(tmp_path / "x.wav"), stdin="  \n",
                       monkeypatch=monkeypatch)  # fmt: skip
    assert code == 2 and "empty" in err
    assert groq_env.requests == []


def test_say_without_output_file_plays_or_says_why_not(capsys, groq_env, monkeypatch):
    monkeypatch.setenv("VOICELOOP_AUDIO__OUTPUT", "no-such-device-anywhere")
    code, _, err = run(capsys, "say", "Hello.")
    assert code == 2 and "-o" in err
    assert groq_env.requests == []


# -- ask ----------------------------------------------------------------------------------


def test_ask_prints_the_streamed_reply(capsys, groq_env):
    code, out, _ = run(capsys, "ask", "What is up?")
    assert (code, out) == (0, "You said: What is up?. That is all I know.\n")
    sent = groq_env.requests_to("chat")[0].json
    assert sent["stream"] is True and sent["model"] == "openai/gpt-oss-20b"


def test_ask_model_system_and_stdin(capsys, groq_env, monkeypatch):
    code, out, _ = run(capsys, "ask", "-", "--model", "llama-3.3-70b-versatile", "--system",
                       "Answer in French.", stdin="Bonjour?", monkeypatch=monkeypatch)  # fmt: skip
    assert code == 0 and "Bonjour?" in out
    sent = groq_env.requests_to("chat")[0].json
    assert sent["model"] == "llama-3.3-70b-versatile"
    assert sent["messages"][0] == {"role": "system", "content": "Answer in French."}


def test_ask_flushes_each_delta(groq_env, monkeypatch):
    writes = []

    class Recorder(io.StringIO):
        def flush(self):
            writes.append(self.getvalue())

    out = Recorder()
    monkeypatch.setattr("sys.stdout", out)
    assert main(["ask", "one two three"]) == 0
    partial = [w for w in writes if w and not w.endswith("\n")]
    assert len(partial) >= 5  # the reply appeared piece by piece, not at the end


def test_ask_empty_is_bad_usage_and_mid_stream_error_is_exit_1(capsys, groq_env):
    assert run(capsys, "ask", "   ")[0] == 2
    groq_env.set_fault("chat", Fault.error_event(after=2))
    code, out, err = run(capsys, "ask", "hi")
    assert code == 1 and out.startswith("You said:") and "mid-stream" in err


def test_ask_unknown_model(capsys, groq_env):
    code, _, err = run(capsys, "ask", "hi", "--model", "gpt-9")
    assert code == 1 and "voiceloop models" in err


# -- models ---------------------------------------------------------------------------------


def test_models_table(capsys, groq_env):
    code, out, _ = run(capsys, "models")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "OWNER", "CONTEXT", "ACTIVE"]
    row = next(line for line in lines if line.startswith("openai/gpt-oss-20b"))
    assert row.split()[-2:] == ["131072", "yes"]
    assert len(lines) == 1 + len(groq_env.models)


def test_models_json(capsys, groq_env):
    code, out, _ = run(capsys, "models", "--json", "--stage", "stt")
    rows = json.loads(out)
    assert code == 0 and {r["id"] for r in rows} >= {"whisper-large-v3"}
    assert "max_completion_tokens" in rows[0]


@pytest.mark.parametrize("command", ["transcribe", "translate", "say", "ask", "models"])
def test_every_command_has_help_with_examples(capsys, command):
    with pytest.raises(SystemExit) as info:
        from voiceloop.cli import build_parser

        build_parser().parse_args([command, "--help"])
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_rate_limit_hint_says_when(capsys, groq_env, monkeypatch):
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "0")
    groq_env.set_fault("models", Fault.http(429, retry_after=20))
    code, _, err = run(capsys, "models")
    assert code == 1 and "rate-limited" in err and "20 s" in err


def test_translate_to_file_with_prompt(capsys, groq_env, tones, tmp_path):
    target = tmp_path / "en.vtt"
    code, out, _ = run(capsys, "translate", str(tones), "--format", "vtt", "-o", str(target),
                       "--prompt", "Tones in English.")  # fmt: skip
    assert code == 0 and out == ""
    assert target.read_text().startswith("WEBVTT") and "English: tone 440" in target.read_text()
    assert groq_env.requests_to("translations")[0].form["prompt"] == ["Tones in English."]


def test_queued_transcript_is_printed(capsys, groq_env, tones):
    groq_env.transcripts.append("turn on the lights")
    assert run(capsys, "transcribe", str(tones))[:2] == (0, "turn on the lights\n")


def test_configured_prompt_and_language_go_to_transcription_only(capsys, groq_env, tones,
                                                                 monkeypatch):  # fmt: skip
    monkeypatch.setenv("VOICELOOP_STT__PROMPT", "Zoë, Saint-Étienne")
    monkeypatch.setenv("VOICELOOP_STT__LANGUAGE", "fr")
    assert run(capsys, "transcribe", str(tones))[0] == 0
    assert run(capsys, "translate", str(tones))[0] == 0
    form = groq_env.requests_to("transcriptions")[0].form
    assert form["prompt"] == ["Zoë, Saint-Étienne"] and form["language"] == ["fr"]
    form = groq_env.requests_to("translations")[0].form
    assert "prompt" not in form and "language" not in form


def test_configured_translate_prompt_goes_to_translation_only(capsys, groq_env, tones,
                                                             monkeypatch):  # fmt: skip
    monkeypatch.setenv("VOICELOOP_TRANSLATE__PROMPT", "Saint-Étienne, in English.")
    assert run(capsys, "translate", str(tones))[0] == 0
    assert run(capsys, "transcribe", str(tones))[0] == 0
    form = groq_env.requests_to("translations")[0].form
    assert form["prompt"] == ["Saint-Étienne, in English."]
    assert "prompt" not in groq_env.requests_to("transcriptions")[0].form


def test_translate_without_files_is_the_live_mode(capsys, groq_env):
    code, _, err = run(capsys, "translate", "--headless", "--turns", "0")
    assert code == 2 and "--turns" in err  # the live mode's own check answered
    assert groq_env.requests == []

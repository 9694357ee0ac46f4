"""``voiceloop transcribe`` and ``voiceloop translate``: audio files to text or subtitles."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from voiceloop.cli.common import add_command, settings_from_args

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from voiceloop.audio.detectors import SpeechDetector
    from voiceloop.audio.gating import Stretch
    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection, SttSettings, TranslateSettings
    from voiceloop.frames import Task
    from voiceloop.providers.groq import TranscriptionResult
    from voiceloop.session.builder import Session
    from voiceloop.stages import Transcriber

FORMATS = ("text", "json", "verbose_json", "srt", "vtt")
EXTENSIONS = {"text": "txt", "json": "json", "verbose_json": "json", "srt": "srt", "vtt": "vtt"}
_UNCHECKED = {".m4a", ".mp4", ".webm", ".mpeg", ".mpga"}
"""Formats the server reads but libsndfile may not: sent without a local check."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tr = add_command(
        subparsers,
        "transcribe",
        help="transcribe audio files to text or subtitles",
        description=(
            "Speech to text for audio files (any format soundfile reads, plus mp3/m4a/webm).\n"
            "Files above [http] upload_limit_mb are split near silences and merged.\n"
            "With no API key (or --local) the local model transcribes, offline."
        ),
        examples=[
            ("voiceloop transcribe talk.flac", "plain text on stdout"),
            ("voiceloop transcribe talk.wav --format srt -o talk.srt", "subtitles"),
            ("voiceloop transcribe a.wav b.ogg -o out/ --format vtt", "one file each in out/"),
            ("voiceloop transcribe fr.mp3 --language fr --prompt 'Zoë, Saint-Étienne'", ""),
        ],
    )
    _common(tr)
    tr.add_argument("--language", metavar="L", help="ISO-639-1 language of the audio")
    tr.add_argument(
        "--local", action="store_true", help="transcribe with the local model ([local] stt_model)"
    )
    tr.set_defaults(handler=run, task="transcribe")

    from voiceloop.cli.run import HEADLESS_NOTE, add_mode_options

    tl = add_command(
        subparsers,
        "translate",
        help="speech in any language to English: audio files, or live (TUI / --headless)",
        description=(
            "English text of speech in any language (needs whisper-large-v3).\n"
            "With FILE arguments: translate those files. Without: open the TUI in translate\n"
            "mode, or with --headless listen to the microphone (or --input) and print English."
        ),
        examples=[
            ("voiceloop translate interview.mp3", "English text on stdout"),
            ("voiceloop translate talk.flac --format srt -o talk.en.srt", "English subtitles"),
            ("voiceloop translate", "open the TUI in translate mode"),
            ("voiceloop translate --headless --input interview.mp3 --original", "live mode"),
            ("voiceloop translate --headless --speak", "read the English aloud"),
        ],
    )
    tl.epilog = f"{tl.epilog}\n\n{HEADLESS_NOTE}"
    _common(tl, nargs="*")
    add_mode_options(tl, "translate", output=False)
    tl.set_defaults(handler=run_translate, task="translate", language=None, mode="translate")


def run_translate(args: argparse.Namespace) -> int:
    """Files given: translate them; none: the live translate mode."""
    if args.files:
        return run(args)
    from voiceloop.cli import run as run_mode

    return run_mode.run(args)


def _common(parser: argparse.ArgumentParser, *, nargs: str = "+") -> None:
    parser.add_argument("files", nargs=nargs, metavar="FILE", help="audio file(s)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output (default text)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (a directory for several inputs); live mode: WAV file or device",
    )
    parser.add_argument("--prompt", metavar="P", help="spelling/vocabulary hints")
    parser.add_argument("--model", metavar="M", help="model id (default from config)")


def run(args: argparse.Namespace) -> int:

    files = [Path(f) for f in args.files]
    for f in files:
        _check_input(f)
    out_dir, out_file = _outputs(args.output, len(files))
    section_name = "stt" if args.task == "transcribe" else "translate"
    overrides: dict[str, Any] = {f"{section_name}.model": args.model}
    if args.task == "transcribe":
        overrides["stt.language"] = args.language
    if getattr(args, "local", False):
        overrides[f"{section_name}.provider"] = "local"
    settings = settings_from_args(args, overrides)
    # [stt]'s prompt is in the speaker's language, [translate]'s in English.
    section_settings: SttSettings | TranslateSettings = getattr(settings, section_name)
    prompt = args.prompt if args.prompt is not None else section_settings.prompt

    from voiceloop.capabilities import stage_capabilities
    from voiceloop.cli.remote import announce_fallback, run_in_session, serving_provider
    from voiceloop.errors import ProviderError, describe
    from voiceloop.session.builder import section_for

    provider = serving_provider(settings, section_name, args.task)
    # The prompt reaches the local engine as its section's (the cloud's is per request).
    section = section_for(settings, section_name, provider, extra={"prompt": prompt})
    filter_on = settings.stt.hallucination_filter
    voice = _voice_detector(settings)
    # An engine that speaks no OpenAI API (on-device, a plugin) gets the files as stretches
    # of speech through its stage; a server gets them whole, split at its upload limit.
    by_stage = not stage_capabilities(section, settings).openai_api

    async def work(session: Session) -> list[TranscriptionResult]:
        if by_stage:
            local = session.create("transcriber", section, provider)
            return [await transcribe_locally(local, f, args.task, filter_on, voice) for f in files]
        cloud = _CloudFiles(settings, section, args.task, prompt, session, voice)
        results: list[TranscriptionResult] = []
        takeover: Transcriber | None = None
        for f in files:
            if takeover is None:
                try:
                    results.append(await cloud.transcribe(f))
                    continue
                except ProviderError as exc:
                    takeover = session.takeover("transcriber", section, exc)
                    if takeover is None:
                        raise
                    announce_fallback(describe(exc).titled())
            # Once the cloud has failed, this file and the rest run on the local engine.
            results.append(await transcribe_locally(takeover, f, args.task, filter_on, voice))
        return results

    results = run_in_session(settings, work)
    return _emit(args, files, results, out_dir, out_file)


class _CloudFiles:
    """Files through the section's server: split at the upload limit, journaled so that an
    interrupted long file resumes."""

    def __init__(
        self,
        settings: Settings,
        section: StageSection,
        task: Task,
        prompt: str | None,
        session: Session,
        voice: SpeechDetector | None = None,
    ) -> None:
        self.voice = voice
        self.settings = settings
        self.section = section
        self.task = task
        self.prompt = prompt
        self.client = session.client(section)
        self.language = settings.stt.language if task == "transcribe" else None
        self.limit = int(settings.http.upload_limit_mb * 1024 * 1024)
        self.show_progress = _is_tty(sys.stderr)

    async def transcribe(self, path: Path) -> TranscriptionResult:
        from voiceloop.cli._transcribe_jobs import StoreJournal
        from voiceloop.providers.longform import transcribe_path

        section, language, prompt = self.section, self.language, self.prompt
        params = {"task": self.task, "provider": section.provider, "model": section.model,
                  "language": language, "prompt": prompt}  # fmt: skip
        with StoreJournal(self.settings, path, params) as journal:
            return await transcribe_path(
                self.client, path, task=self.task, model=section.model, language=language,
                prompt=prompt, upload_limit_bytes=self.limit,
                hallucination_filter=self.settings.stt.hallucination_filter,
                on_progress=_progress(path) if self.show_progress else None, journal=journal,
                voice_detector=self.voice,
            )  # fmt: skip


def _emit(
    args: argparse.Namespace,
    files: list[Path],
    results: Sequence[TranscriptionResult],
    out_dir: Path | None,
    out_file: Path | None,
) -> int:
    from voiceloop.cli.common import EXIT_NO_SPEECH
    from voiceloop.errors import UsageError

    silent = 0
    for f, result in zip(files, results, strict=True):
        if not result.text.strip():
            silent += 1
            print(f"voiceloop: no speech found in {f}", file=sys.stderr)
        text = render(result, args.format)
        if out_dir is not None:
            _write(out_dir / f"{f.stem}.{EXTENSIONS[args.format]}", text)
        elif out_file is not None:
            _write(out_file, text)
        else:
            if len(files) > 1 and args.format == "text":
                sys.stdout.write(f"==> {f} <==\n")
            sys.stdout.write(text)
            sys.stdout.flush()
    if (out_file is not None or out_dir is not None) and not results:
        raise UsageError("nothing to transcribe")
    return EXIT_NO_SPEECH if results and silent == len(results) else 0


def _voice_detector(settings: Settings) -> SpeechDetector | None:
    """What long files are gated with beyond loudness: the voice detector, unless
    ``[vad] engine`` is ``energy`` (loudness alone) or it does not load."""
    if settings.vad.engine != "silero":
        return None
    from voiceloop.audio.detectors import SileroDetector
    from voiceloop.errors import LocalModelError

    try:
        return SileroDetector()
    except LocalModelError:
        return None


async def transcribe_locally(
    stage: Transcriber,
    path: Path,
    task: Task,
    filter_on: bool,
    voice: SpeechDetector | None = None,
) -> TranscriptionResult:
    """One file through a local transcriber, as the cloud's result (segments as dicts).

    A long file is read in blocks and gated: only stretches loud enough, and with a voice
    in them (``voice``), reach the model, one at a time, so silence and noise cost neither
    model time nor memory.
    """
    from voiceloop.audio.formats import file_duration, load_speech
    from voiceloop.audio.gating import Stretch, has_speech, speech_fraction, speech_stretches
    from voiceloop.frames import SAMPLE_RATE
    from voiceloop.providers.longform import SHORT_UTTERANCE_S

    length = file_duration(path)
    if length <= SHORT_UTTERANCE_S:
        pcm = load_speech(path, SAMPLE_RATE)
        stretches: Iterable[Stretch] = [Stretch(0.0, pcm, speech_fraction(pcm, SAMPLE_RATE))]
        voice = None  # a short file goes to the model whole, like an utterance
    else:
        stretches = speech_stretches(path, rate=SAMPLE_RATE)
    texts: list[str] = []
    segments: list[dict[str, Any]] = []
    language, model = None, None
    for stretch in stretches:
        if voice is not None and not has_speech(stretch.pcm, SAMPLE_RATE, detector=voice):
            continue
        part = await _local_part(stage, stretch, task, filter_on)
        language, model = language or part.language, model or part.raw.get("model")
        if part.text:
            texts.append(part.text)
        segments += [
            {**s, "id": len(segments) + i, "start": s["start"] + stretch.offset,
             "end": s["end"] + stretch.offset}
            for i, s in enumerate(part.segments)
        ]  # fmt: skip
    return _local_result(" ".join(texts), language, length, segments, model)


async def _local_part(
    stage: Transcriber, stretch: Stretch, task: Task, filter_on: bool
) -> TranscriptionResult:
    from voiceloop.frames import SAMPLE_RATE, Utterance
    from voiceloop.providers.longform import apply_hallucination_filter, segment_dicts

    seconds = len(stretch.pcm) / SAMPLE_RATE
    utterance = Utterance(
        pcm=stretch.pcm, start=stretch.offset, end=stretch.offset + seconds,
        speech_fraction=stretch.speech_fraction,
    )  # fmt: skip
    transcript = await stage.transcribe(utterance, task=task)
    segments = segment_dicts([replace(s, text=" " + s.text.strip()) for s in transcript.segments])
    language, model = transcript.language, transcript.model
    result = _local_result(transcript.text, language, seconds, segments, model)
    if filter_on:
        result = apply_hallucination_filter(
            result, duration=seconds, speech_fraction=stretch.speech_fraction
        )
    return result


def _local_result(
    text: str,
    language: str | None,
    length: float,
    segments: list[dict[str, Any]],
    model: str | None,
) -> TranscriptionResult:
    from voiceloop.providers.groq import TranscriptionResult

    raw = {"text": text, "language": language, "duration": length,
           "segments": segments, "model": model, "provider": "local"}  # fmt: skip
    return TranscriptionResult(
        text=text, language=language, duration=length, segments=segments, raw=raw
    )


def render(result: TranscriptionResult, fmt: str) -> str:
    """A transcription result in an output format (subtitles built from its segments)."""
    import json

    if fmt == "text":
        return str(result.text + "\n")
    if fmt == "json":
        return json.dumps({"text": result.text}, ensure_ascii=False) + "\n"
    if fmt == "verbose_json":
        raw = result.raw if isinstance(result.raw, dict) else {"text": result.text}
        return json.dumps(raw, ensure_ascii=False, indent=2) + "\n"
    from voiceloop.providers.longform import to_segments
    from voiceloop.text.subtitles import cues_or_whole_text, to_srt, to_vtt

    duration = getattr(result, "duration", None)
    cues, whole = cues_or_whole_text(to_segments(result.segments), result.text, duration)
    if whole:
        print(
            "voiceloop: the server returned no timed segments; the subtitles hold the whole "
            "text with estimated times",
            file=sys.stderr,
        )
    return to_srt(cues) if fmt == "srt" else to_vtt(cues)


def _check_input(path: Path) -> None:
    from voiceloop.cli.common import check_audio_file

    check_audio_file(path, unchecked=_UNCHECKED)


def _outputs(output: str | None, count: int) -> tuple[Path | None, Path | None]:
    from voiceloop.errors import UsageError

    if output is None:
        return None, None
    path = Path(output)
    if count > 1 or output.endswith(("/", "\\")) or path.is_dir():
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{path}: cannot create directory ({exc.strerror})") from None
        return path, None
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent}: no such directory", hint="create it first")
    return None, path


def _write(path: Path, text: str) -> None:
    from voiceloop.errors import UsageError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {path}", file=sys.stderr)


def _progress(path: Path) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        if total > 1:
            end = "\n" if done == total else ""
            print(f"\r{path.name}: chunk {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

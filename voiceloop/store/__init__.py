"""The history store: every session and turn, its text, status, metrics and recording.

``Store`` is the public entry. How the engine uses it (every call is synchronous and
fast enough for the event loop; every failure is a one-line :class:`StoreError`)::

    store = Store.from_settings(settings)   # at start-up: a bad data dir fails here;
                                            # applies the [store] keep_audio policy
    session = store.open_session("converse")
    # for each utterance, before any network call:
    turn_id, audio_path = store.begin_turn(session, "converse", flac_bytes, duration=2.1)
    store.update_turn(turn_id, transcript="hello", status="transcribed",
                      providers={"stt": "groq"}, models={"stt": "whisper-large-v3-turbo"})
    store.update_turn(turn_id, reply=text, reply_heard=heard, status="interrupted",
                      timings={...}, usage={...})
    store.update_turn(turn_id, status="failed", error=exc.one_line())  # audio stays for retry
    store.close()

Turns left ``captured`` by a process that died are ``unfinished``; ``voiceloop retry``
completes them from the kept recording. Long transcriptions record their chunks as a job
(:meth:`Store.create_job`, :meth:`Store.update_chunk`, :meth:`Store.finish_job`) and find
an interrupted one again with :meth:`Store.find_job`.
"""

from voiceloop.store.database import KeepAudio, Store
from voiceloop.store.paths import DATA_DIR_ENV, NotFoundError, default_data_dir
from voiceloop.store.rows import ChunkRow, JobRow, SessionRow, TurnRow
from voiceloop.store.schema import SCHEMA_VERSION

__all__ = [
    "DATA_DIR_ENV",
    "SCHEMA_VERSION",
    "ChunkRow",
    "JobRow",
    "KeepAudio",
    "NotFoundError",
    "SessionRow",
    "Store",
    "TurnRow",
    "default_data_dir",
]

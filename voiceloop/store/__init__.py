"""The history store: every session and turn, its text, status, metrics and recording.

``Store`` is the public entry::

    store = Store()                      # $VOICELOOP_DATA_DIR or the user data dir
    session = store.open_session("converse")
    turn_id, audio = store.begin_turn(session, "converse", flac_bytes, duration=2.1)
    store.update_turn(turn_id, transcript="hello", status="transcribed")
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

"""Keep libasound's own error printing off the terminal.

ALSA reports conditions such as "underrun occurred" by printing straight to file
descriptor 2 from C. Under the TUI that writes over the screen, and PortAudio already
reports the same conditions through its status flags, which the capture and playback
code count. So voiceloop installs a handler that drops them, before PortAudio loads.
"""

from __future__ import annotations

import ctypes

# void handler(const char *file, int line, const char *function, int err, const char *fmt, ...)
# The variadic tail is never read, so a fixed-argument callback is safe to install.
_HANDLER_TYPE = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)


def _drop(_file: bytes, _line: int, _function: bytes, _err: int, _fmt: bytes) -> None:
    return None


_handler = _HANDLER_TYPE(_drop)  # kept alive for the life of the process
_installed = False


def silence_alsa_errors() -> bool:
    """Install the quiet handler once; False when there is no libasound (not Linux)."""
    global _installed
    if _installed:
        return True
    try:
        # By its soname first: find_library runs ldconfig in a child process, and this is
        # on the way to opening the microphone at launch.
        lib = ctypes.CDLL("libasound.so.2")
    except OSError:
        from ctypes.util import find_library

        name = find_library("asound")
        if name is None:
            return False
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            _debug("could not load libasound")
            return False
    try:
        lib.snd_lib_error_set_handler(_handler)
    except AttributeError:
        _debug("could not quiet libasound")
        return False
    _installed = True
    return True


def _debug(message: str) -> None:
    import logging  # only on failure: logging is not needed before the microphone opens

    logging.getLogger(__name__).debug(message, exc_info=True)

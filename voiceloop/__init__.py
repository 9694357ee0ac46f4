"""voiceloop: a voice assistant that lives in the terminal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("voiceloop")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

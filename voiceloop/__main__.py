from voiceloop.cli import entry

entry()

"""A session: the stages one run needs, built from settings in one place, and what they share.

- :mod:`~voiceloop.session.serving`: who serves each stage (the configured provider, or a
  local engine for lack of a key) and what a stage that cannot be reached needs.
- :mod:`~voiceloop.session.builder`: :class:`~voiceloop.session.builder.Session`, the only
  place that turns settings into stages; it owns the HTTP client pool they share.
- :mod:`~voiceloop.session.engine`: a whole engine from settings (session, audio in and
  out, history store).

Every command, the TUI and the engine get their stages here. Import the submodules you
need; this package imports nothing itself.
"""

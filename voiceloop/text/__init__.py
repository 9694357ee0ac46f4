"""Pure text building blocks: speakable text and sentence chunks for speech
(:mod:`.speakable`, :mod:`.sentences`), subtitles (:mod:`.subtitles`), guards against
text invented from silence (:mod:`.hallucination`) and merging of chunked transcripts
(:mod:`.merge`)."""

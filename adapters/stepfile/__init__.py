"""The EzSTEP-style file link: STEP messages in append-only files, one directory a session."""

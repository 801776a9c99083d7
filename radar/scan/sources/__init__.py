"""Where text to scan comes from: each source yields `TextUnit`s (see `interface`)."""

"""Finding hardcoded credentials: sources of text -> engine -> findings -> formats.

- `sources/`: where text comes from (a directory tree now; git history and GitLab variables plug
  in through the same `TextUnit` interface).
- `rules` loads the declarative detector suite from the `radar.detectors` package; `examples` expands
  the rules' example templates (used by the tests and the corpus generator).
- `engine`: an Aho-Corasick keyword prefilter picks the rules and lines to run, the rules' regular
  expressions run with a timeout, `filters`, `generic` and `validators` judge each candidate, and
  `decoding` scans base64 and percent-encoded blobs.
- `findings`: the `Finding` model, fingerprints, redacted previews, de-duplication.
- `scanner`: reads units in parallel and collects findings and warnings.
- renderings of findings live in `radar.report` (json, text, sarif, gitlab, csv, markdown, html).
"""

"""`radar mask`: secret sources -> forms -> engine -> stream -> output.

- `sources`   where secret values come from (files, variables, file-type variables, Vault results)
- `forms`     every encoded form of one secret value
- `patterns`  the compiled set of all forms of all secrets, shared by every stream of a job
- `engine`    the multi-literal matcher interface (Hyperscan when it imports, pyahocorasick otherwise)
- `detectors` secrets nobody registered: GitLab token bodies, URL query values, URL passwords
- `stream`    hold-back, merging, release: bytes in, bytes out, no I/O
- `wrap`      running a command with its stdout and stderr masked
"""

"""`radar monitor`: a scheduled scan that reports what changed since its last run.

`state` is the file that remembers the last run; `compare` turns a scan's findings and that
state into a `MonitorResult` (new, still present, resolved) and the state to write next.
"""

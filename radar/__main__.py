"""Allows `python -m radar`."""

from radar.cli import main

raise SystemExit(main())

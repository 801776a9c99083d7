"""`radar` with Entra ID, Google STS and Secret Manager moved to local fakes, for the tests.

    python tests/radar_cloud.py '{"entra_authority": "https://127.0.0.1:PORT", ...}' exec ...

The first argument is the JSON of `radar.vault.cloud.CloudEndpoints`; the rest is radar's
command line. The `radar` command has no such setting: only this test entry point can send
radar's ID tokens and access tokens anywhere but the public clouds.
"""

import json
import sys

from radar.cli import main
from radar.vault.cloud import CloudEndpoints

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[2:], cloud_endpoints=CloudEndpoints(**json.loads(sys.argv[1]))))

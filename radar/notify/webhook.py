"""The webhook: one POST of the run's summary JSON (see `radar.notify.text.webhook_payload`).

It goes through radar's own HTTP client (`radar.vault.transport`), not requests, for what a
webhook needs and requests lacks: one deadline for the whole exchange (a server that trickles
its answer cannot hold the job past TIMEOUT), redirects followed only to the URL's own origin
(307/308; another host, a downgrade to http, or a 301/302/303 that would turn the POST into a
GET are refused before a byte goes there), a bounded answer, TLS with the system's store
(SSL_CERT_FILE/SSL_CERT_DIR), and the https_proxy/no_proxy variables. Any answer but 2xx, and
any failure, is a warning naming the webhook by its origin only: its path often is its token.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from radar import __version__
from radar.notify.targets import NotifySettings, Target
from radar.vault.transport import AnswerTooLarge, NetworkError, RedirectRefused, TLSError, Transport


def post(target: Target, payload: dict, settings: NotifySettings) -> str | None:
    """Post `payload` to the webhook; a warning when it was not accepted, else None."""
    parts = urlsplit(target.url or "")
    transport = Transport(f"{parts.scheme}://{parts.netloc}")
    path = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    body = json.dumps(payload).encode("ascii")  # ASCII: \u escapes for the rest, nothing left to mis-encode
    headers = {"Content-Type": "application/json", "User-Agent": f"radar/{__version__}"}
    failed = f"{target.shown}: the summary was not posted"
    try:
        response = transport.request("POST", path, headers=headers, body=body,
                                     deadline=time.monotonic() + settings.timeout)
    except NetworkError as e:
        return f"{failed} ({e.reason})"
    except TLSError as e:
        fix = "; set SSL_CERT_FILE to the CA file that signed its certificate" if e.verify_failed else ""
        return f"{failed} (TLS: {e.reason}{fix})"
    except RedirectRefused as e:
        if e.kind in ("origin", "downgrade"):
            return f"{failed} (it redirected to {e.target}: radar posts to the webhook's own origin only)"
        return f"{failed} (it answered a redirect radar does not follow with a POST: {e.status})"
    except AnswerTooLarge:
        return f"{failed} (its answer was too large)"
    finally:
        transport.close()
    if not 200 <= response.status < 300:
        return f"{failed} (it answered {response.status})"
    return None

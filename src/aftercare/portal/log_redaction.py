"""Customer-page tokens are credentials (an expired one still unsubscribes), and Django logs
request paths: "Not Found: /c/…/order/", "Forbidden (CSRF token missing.): …", the
development server's and gunicorn's access lines. This filter, installed on those loggers
when the app loads (in every web process), rewrites the token of every /c/…/ path in a
record (and of the one-click unsubscribe URL, /api/v1/unsubscribe/…) to "<token>" before any
handler sees it. A reverse proxy's access log is outside our
processes: see docs/subsystems/portal.md."""

from __future__ import annotations

import logging
import re

# "/c/<something>/" or the one-click "/api/v1/unsubscribe/<something>" at the start of a value
# or after a space or quote (a request line, a path).
_TOKEN = re.compile(r"""(?:(?<=^)|(?<=[\s"'(]))(/c/|/api/v1/unsubscribe/)[^/\s?#"']+""")
REDACTED = r"\1<token>"

# Loggers that print request paths (django.request: 4xx/5xx; csrf: rejections; django.server:
# runserver's access log; gunicorn.access: `aftercare serve`'s access log, args a dict).
LOGGERS = ("django.request", "django.security.csrf", "django.server", "gunicorn.access")


def redact(value: str) -> str:
    return _TOKEN.sub(REDACTED, value)


class RedactPortalTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactPortalTokens) for f in logger.filters):
            logger.addFilter(RedactPortalTokens())

"""gunicorn's settings for mesh-ui (read from the working directory, or ``gunicorn -c gunicorn.conf.py``).

Only logging: gunicorn's own loggers (``gunicorn.error`` with its "Error handling request /path?token=..." lines and
tracebacks, ``gunicorn.access`` when an access log is on) write through the same redaction filter as the app's
(``clients.redaction.RedactingFilter``), so a token in a query string or a password in a URL never reaches them.
The filter is added to the handlers gunicorn made from its command line (``--error-logfile``, ``--access-logfile``,
syslog), which keep working as documented; workers, threads and the address stay on the command line too.
"""

from typing import Any


def redact_gunicorn_logs(log: Any) -> None:
    """Put the redaction filter on every handler of gunicorn's error and access loggers (once each)."""
    from clients.redaction import RedactingFilter  # the project is importable once gunicorn has set its path

    for logger in (log.error_log, log.access_log):
        for handler in logger.handlers:
            if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
                handler.addFilter(RedactingFilter())


def on_starting(server: Any) -> None:
    redact_gunicorn_logs(server.log)


def on_reload(server: Any) -> None:
    # A reload (SIGHUP) makes gunicorn's handlers anew, without the filter.
    redact_gunicorn_logs(server.log)

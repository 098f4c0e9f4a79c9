"""Failures nobody foresaw: the client gets one short line and a reference, the server's log
gets the traceback under the same reference. No exception text, file path or stack frame is
ever sent: they describe the server, which is none of the client's business and can help an
attacker. (The app's last resort for an exception no route handled is
error_pages.unexpected_error.)"""

from __future__ import annotations

import logging
import secrets
import traceback

log = logging.getLogger(__name__)


def report(error: BaseException, context: str) -> str:
    """Log ``error`` with its traceback under a new reference, and return the reference.

    The traceback is formatted here, as text: a log record keeping the exception would keep its
    frames alive, and with them whatever the failing thread held."""
    reference = secrets.token_hex(6)
    trace = "".join(traceback.format_exception(error)).rstrip()
    log.error("internal error %s while %s\n%s", reference, context, trace)
    return reference


def client_message(reference: str) -> str:
    """What the client is told about an internal error."""
    return f"internal server error (reference {reference}); the details are in the server's log"

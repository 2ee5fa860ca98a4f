"""Logging for operators: readable lines by default, JSON lines on request, and never a BSN in either.

Log messages name files and kenmerken only (see `pipeline.shell.runner`); `RedactBsn` is the safety net behind
that rule: any 9-digit number that passes the elfproef is replaced before a line is written, wherever it came
from (a library's message, an exception text, an argument), and control characters in a message (a newline in a
file name) are escaped so that no text can forge a log line. The rules are `pipeline.core.redaction`'s.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import TextIO

from pipeline.core.redaction import REDACTED, for_people, redact  # noqa: F401  (REDACTED, redact: re-exported)

_HANDLER_MARK = "_sopipe_handler"
OWN_LOGGERS = ("sopipe", "pipeline")


class RedactBsn(logging.Filter):
    """Rewrites a record's message (and exception text) with BSN-like numbers redacted and control characters
    escaped; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = for_people(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the moment: a progress bar redirects it so lines appear above it."""

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property decides
        pass


def setup_logging(*, verbose: bool = False, json_lines: bool = False, stream: TextIO | None = None) -> None:
    """Send log records to `stream` (stderr) as text or JSON lines. Replaces only a handler set up here before."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactBsn())
    handler.setFormatter(JsonLines() if json_lines else
                         logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"))
    root.addHandler(handler)
    # Libraries speak up only when something is wrong (fontTools alone logs hundreds of INFO lines per signature);
    # sopipe's own loggers tell what happened to each file.
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)

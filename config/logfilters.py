"""Logs never carry credentials: JWTs, Bearer values, signed object tokens, presigned URL signatures."""

import logging
import re

REDACTIONS = (
    (re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]+"), "[jwt]"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1[token]"),
    (re.compile(r"(/objects/)[^\s\"'?#]+"), r"\1[signed]"),
    (re.compile(r"(?i)([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|token|refresh|access)=)[^&\s\"']+"),
     r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrite a record's message (and its traceback) with every credential replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True

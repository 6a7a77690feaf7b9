"""Every API error is JSON with a ``detail`` message; a bad parameter also
names itself (``errors``: {parameter: [messages]})."""

from rest_framework import exceptions
from rest_framework.views import exception_handler


def handler(exc, context):
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        names = ", ".join(sorted(exc.detail))
        errors = {name: [str(message) for message in messages] for name, messages in exc.detail.items()}
        exc = exceptions.ValidationError({"detail": f"Invalid parameter: {names}.", "errors": errors})
    return exception_handler(exc, context)

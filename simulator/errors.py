"""The simulator's own exceptions.

``RequestError`` becomes a soap:Client fault (the request is wrong and will stay wrong);
``UnknownCase`` and ``AdminInputError`` are answered by the admin API with 404 and 400.
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of every error the simulator raises on purpose."""


class RequestError(SimulatorError):
    """A SOAP request that can never succeed as sent (schema, signature, unknown operation)."""


class UnknownCase(SimulatorError):
    """An admin action named a case, application or person the simulator does not know."""


class AdminInputError(SimulatorError):
    """An admin request whose JSON body is missing a field or carries a bad value."""

"""Errors raised by the pure mapping layer (part of the hierarchy drawn in ``adapter.errors``)."""

from __future__ import annotations

from mappings.model import Issue


class MappingError(Exception):
    """Base of every error raised by ``mappings``."""


class InvalidEvent(MappingError):
    """The event breaks the contract; ``issues`` name every field and rule broken.

    Issue texts name the field and the rule, never the value (no personal data).
    """

    def __init__(self, issues: list[Issue] | tuple[Issue, ...]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__("; ".join(f"{i.expression or '-'}: {i.text}" for i in self.issues))


class SchemaViolation(MappingError):
    """A built VSB message does not validate against the VSB XSD (a permanent error)."""


class AnswerFormatError(MappingError):
    """An answer of the central application could not be read."""


class MissingReference(MappingError):
    """A modification cannot be built: the dossier has no accepted application's VSB reference.

    The engine holds such a message until the application is accepted (or refuses it with
    the application's refusal); it is never sent without its reference.
    """

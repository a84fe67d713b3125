"""A message type's role in its dossier: what it needs of the application, what it does to it.

The engine asks the role two things (and reads ``modifies`` for the VSB reference a
message carries) and never looks at a message type's name:

- ``refusal(application)`` before sending: a modification without an accepted application,
  or after the application was closed, is refused by the adapter itself, never sent;
- ``change(outcome, reference, issues)`` after an answer: what the dossier's application
  becomes (an application's answer opens it; an accepted cancel closes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from mappings.model import Issue, Outcome

_DOSSIER: Final = "MessageHeader.extension('urn:vsb-adapter:fhir:dossier')"


@dataclass(frozen=True)
class Application:
    """What a dossier knows of its application (its opening message's answers)."""

    outcome: Outcome
    vsb_reference: str | None
    issues: tuple[Issue, ...]
    closed: bool
    """An accepted closing message (a cancel) ended it: nothing may follow."""


@dataclass(frozen=True)
class ApplicationChange:
    """What an answer does to the dossier's application: set its outcome, or close it."""

    outcome: Outcome | None = None
    """With ``vsb_reference`` and ``issues``: the application's answer (it opens or decides)."""
    vsb_reference: str | None = None
    issues: tuple[Issue, ...] = ()
    close: bool = False


@dataclass(frozen=True)
class Role:
    """One of the roles below.

    ``refusal`` and ``change`` read the flags; elsewhere ``modifies`` decides that a built
    message carries its application's VSB reference (``mappings.message``,
    ``adapter.engine.sender``), and the bench reads ``opens`` to keep the references its
    applications get (``bench/bare.py``).
    """

    name: str
    opens: bool = False
    modifies: bool = False
    closes: bool = False

    def refusal(self, application: Application | None) -> list[Issue]:
        """Why the adapter refuses this message without sending it (empty: send it).

        The issues of a refused application follow its reason, so the EPD sees why.
        """
        if not self.modifies:
            return []
        if application is not None and application.closed:
            text = "the application of this dossier was closed; nothing may follow its closing"
            return [Issue("application-closed", text, _DOSSIER)]
        if application is not None and application.outcome is Outcome.REFUSED:
            reason = Issue(
                "application-refused",
                "the application of this dossier was refused; see its errors",
                _DOSSIER,
            )
            return [reason, *application.issues]
        if application is None or application.vsb_reference is None:
            text = "this dossier has no accepted application to modify"
            return [Issue("no-accepted-application", text, _DOSSIER)]
        return []

    def change(
        self, outcome: Outcome, vsb_reference: str | None, issues: Sequence[Issue]
    ) -> ApplicationChange | None:
        """What this message's answer does to the application (None: nothing)."""
        if self.opens:
            return ApplicationChange(outcome, vsb_reference, tuple(issues))
        if self.closes and outcome is Outcome.ACCEPTED:
            return ApplicationChange(close=True)
        return None


LOOKUP: Final = Role("look-up")
"""Outside the dossier's application: needs nothing, changes nothing."""
OPENS: Final = Role("opens", opens=True)
"""An application: its answers (accepted with a VSB reference, in beraad, refused) are the
dossier's application."""
MODIFIES: Final = Role("modifies", modifies=True)
"""A modification: sent with the application's VSB reference, refused here without one."""
CLOSES: Final = Role("closes", modifies=True, closes=True)
"""A final modification (a cancel): accepted, it closes the application."""

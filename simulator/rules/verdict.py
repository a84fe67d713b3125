"""What a rule decides (a ``Verdict``) and the identity checks every message gets."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.answers import Body, Error, InsuranceStatus, Outcome
from simulator.population import insz_is_valid
from simulator.rules.codes import INVALID_INSZ, UNKNOWN_FACILITY


@dataclass(frozen=True)
class Verdict:
    """What the central application answers, before any reference number is handed out."""

    outcome: Outcome
    errors: tuple[Error, ...] = ()
    body: Body | None = None
    """The answer's type-specific part (a look-up's result, a granted period)."""

    @property
    def insurance_status(self) -> InsuranceStatus | None:
        """The insurance status, when the body is one."""
        return self.body if isinstance(self.body, InsuranceStatus) else None


def refused_or_accepted(errors: list[Error]) -> Verdict:
    """Refused with every error found, or accepted when there is none."""
    return Verdict(Outcome.REFUSED, tuple(errors)) if errors else Verdict(Outcome.ACCEPTED)


def identity_errors(kind: str, insz: str, recognised: bool) -> list[Error]:
    """VSB-INSZ-01 for wrong check digits, VSB-FAC-01 for a facility not recognised."""
    errors = []
    if not insz_is_valid(insz):
        errors.append(Error(INVALID_INSZ, "INSZ/BIS check digits are wrong", f"/{kind}/Insz"))
    if not recognised:
        errors.append(
            Error(UNKNOWN_FACILITY, "not a recognised facility", f"/{kind}/Header/Facility/Nihdi")
        )
    return errors

"""INSZ/BIS and NIHDI checks, and masking INSZ numbers for logs."""

from __future__ import annotations

import pytest

from mappings import mask_insz
from mappings.identifiers import is_valid_insz, is_valid_nihdi


@pytest.mark.parametrize(
    "value",
    [
        "85073003328",  # born 1985
        "12031512419",  # born 2012: check digits over 2 + the first nine digits
        "90411706253",  # BIS number: month + 40
        "78021415708",
    ],
)
def test_valid_insz_and_bis(value: str) -> None:
    """Real-shaped INSZ and BIS numbers pass, including births from 2000 on."""
    assert is_valid_insz(value)


@pytest.mark.parametrize(
    "value",
    [
        "85073003329",  # check digits off by one
        "12031512420",  # neither the 1912 nor the 2012 check
        "62081228337",
        "8507300332",  # ten digits
        "85.07.30-033.28",  # display form is not the wire form
        "",
    ],
)
def test_invalid_insz(value: str) -> None:
    """Wrong check digits and anything but 11 digits fail."""
    assert not is_valid_insz(value)


def test_post_2000_birth_uses_the_2_prefix() -> None:
    """A check computed over 2 + the first nine digits (births from 2000 on) is accepted."""
    nine = "120315124"
    check = 97 - int("2" + nine) % 97
    assert check != 97 - int(nine) % 97
    assert is_valid_insz(f"{nine}{check:02d}")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("71012314001", True),  # 97 - (710123 mod 97) = 14
        ("71012308001", True),  # 89 - (710123 mod 89) = 08
        ("10203053004", True),  # modulo-89 variant
        ("71012315001", False),
        ("7101231400", False),
        ("7101231400a", False),
    ],
)
def test_nihdi_check(value: str, valid: bool) -> None:
    """NIHDI numbers pass with either the modulo-97 or the modulo-89 check pair."""
    assert is_valid_nihdi(value) is valid


@pytest.mark.parametrize(
    ("value", "masked"),
    [("85073003328", "*********28"), ("12", "**"), ("", "")],
)
def test_mask_insz(value: str, masked: str) -> None:
    """Masking keeps only the last two digits of an INSZ."""
    assert mask_insz(value) == masked

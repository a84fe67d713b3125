"""The migration classes of DOMAIN.md at every boundary date, for both sectors."""

from __future__ import annotations

from datetime import date

import pytest

from mappings.migration import (
    Classification,
    MigrationClass,
    PvtFile,
    classify_pvt,
    classify_reva,
)

D = date.fromisoformat
M = MigrationClass


class TestPvt:
    """PVT: switch-over 1/4/2023, last VI receipt 30/4/2023, late requests 30 days back."""

    @pytest.mark.parametrize(
        ("file", "kind", "start"),
        [
            # admission around the switch-over (a file received and approved in time)
            (PvtFile(D("2023-03-31"), D("2023-03-01"), D("2023-03-20"), D("2023-12-31")),
             M.MIGRATION_FILE, "2023-03-31"),
            (PvtFile(D("2023-04-01")), M.NEW_REQUEST, "2023-04-01"),
            (PvtFile(D("2023-04-02")), M.NEW_REQUEST, "2023-04-02"),
            # the VI's receipt around 30/4 (approved after the switch-over: class 2)
            (PvtFile(D("2023-01-10"), D("2023-04-29"), D("2023-05-20"), D("2024-01-09")),
             M.MIGRATION_FILE, "2023-01-10"),
            (PvtFile(D("2023-01-10"), D("2023-04-30"), D("2023-05-20"), D("2024-01-09")),
             M.MIGRATION_FILE, "2023-01-10"),
            (PvtFile(D("2023-01-10"), D("2023-05-01"), D("2023-05-20"), D("2024-01-09")),
             M.LATE_REQUEST, "2023-04-01"),
            # a late request: at most 30 days before the receipt, never before 1/4
            (PvtFile(D("2023-01-10"), D("2023-05-30")), M.LATE_REQUEST, "2023-04-30"),
            (PvtFile(D("2023-01-10"), D("2023-05-31")), M.LATE_REQUEST, "2023-05-01"),
            (PvtFile(D("2023-01-10"), D("2023-05-01")), M.LATE_REQUEST, "2023-04-01"),
            (PvtFile(D("2023-01-10")), M.LATE_REQUEST, "2023-04-01"),
            # received in time, not approved yet
            (PvtFile(D("2023-01-10"), D("2023-04-30")), M.AWAITING_APPROVAL, "2023-01-10"),
            # the approved period around 31/3, with and without an extension from 1/4
            (PvtFile(D("2022-06-01"), D("2022-05-20"), D("2022-05-30"), D("2023-03-30"), True),
             M.NOTHING_TO_MIGRATE, "2022-06-01"),
            (PvtFile(D("2022-06-01"), D("2022-05-20"), D("2022-05-30"), D("2023-03-31")),
             M.NOTHING_TO_MIGRATE, "2022-06-01"),
            (PvtFile(D("2022-06-01"), D("2022-05-20"), D("2022-05-30"), D("2023-03-31"), True),
             M.MIGRATION_FILE_EXTENSION_FOLLOWS, "2022-06-01"),
            (PvtFile(D("2022-06-01"), D("2022-05-20"), D("2022-05-30"), D("2023-04-01")),
             M.MIGRATION_FILE, "2022-06-01"),
        ],
        ids=[
            "admission-0331", "admission-0401", "admission-0402",
            "receipt-0429", "receipt-0430", "receipt-0501",
            "late-30-days-0430", "late-30-days-0501", "late-floor-0401", "late-never-received",
            "awaiting-approval",
            "ended-0330-extended", "ended-0331", "ended-0331-extended", "ends-0401",
        ],
    )  # fmt: skip
    def test_class_and_start(self, file: PvtFile, kind: MigrationClass, start: str) -> None:
        """Each file gets its class and the start date it is sent with."""
        found = classify_pvt(file)
        assert (found.kind, found.start.isoformat()) == (kind, start)

    def test_reasons_name_the_deciding_dates(self) -> None:
        """The reason says which dates decided, so the EPD user can check them."""
        late = classify_pvt(PvtFile(D("2023-01-10"), D("2023-05-31")))
        assert "2023-01-10" in late.reason
        assert "2023-05-31" in late.reason
        assert "from 2023-05-01" in late.reason
        follows = classify_pvt(
            PvtFile(D("2022-06-01"), D("2022-05-20"), D("2022-05-30"), D("2023-03-31"), True)
        )
        assert "pvt-extension" in follows.reason


class TestReva:
    """REVA: switch-over 1/10/2023; a migration file needs the VI's approval."""

    @pytest.mark.parametrize(
        ("start", "approval", "kind"),
        [
            ("2023-09-30", "2023-09-15", M.MIGRATION_FILE),
            ("2023-10-01", "2023-09-15", M.NEW_REQUEST),
            ("2023-10-02", None, M.NEW_REQUEST),
            ("2023-09-30", None, M.NEW_REQUEST),
        ],
        ids=["start-0930-approved", "start-1001-approved", "start-1002", "start-0930-unapproved"],
    )
    def test_class(self, start: str, approval: str | None, kind: MigrationClass) -> None:
        """Started before the switch-over and approved by the VI: a migration file."""
        found = classify_reva(D(start), None if approval is None else D(approval))
        assert (found.kind, found.start) == (kind, D(start))


class TestFlag:
    """An EPD flag is refused only when it contradicts a file that is sent at all."""

    @pytest.mark.parametrize(
        ("classification", "flagged", "contradicts"),
        [
            (classify_reva(D("2023-10-01"), None), True, "flagged as a migration file, but"),
            (classify_reva(D("2023-10-01"), None), False, None),
            (classify_reva(D("2023-09-30"), D("2023-09-01")), True, None),
            (classify_reva(D("2023-09-30"), D("2023-09-01")), False, "set the migration flag"),
            (classify_pvt(PvtFile(D("2023-01-10"), D("2023-05-01"))), True, "a late request"),
            (classify_pvt(PvtFile(D("2022-06-01"), D("2022-05-20"), D("2022-05-30"),
                                  D("2023-03-31"))), True, None),
        ],
        ids=["reva-new-flagged", "reva-new", "reva-migration-flagged", "reva-migration-unflagged",
             "pvt-late-flagged", "pvt-nothing-flagged"],
    )  # fmt: skip
    def test_contradiction(
        self, classification: Classification, flagged: bool, contradicts: str | None
    ) -> None:
        """The explanation carries the reason of the class."""
        found = classification.flag_contradiction(flagged)
        if contradicts is None:
            assert found is None
        else:
            assert found is not None
            assert contradicts in found
            assert classification.reason in found

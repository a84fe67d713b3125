"""Sealing at rest: round trips, rotation and rekey, tampering, keyring poison, support views.

Real AES-GCM on real SQLite and PostgreSQL stores (each store test runs on both).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from adapter.devpki import DevPki
from adapter.engine.breaker import CircuitBreaker
from adapter.engine.ingest import Ingest
from adapter.engine.sender import Sender
from adapter.errors import ConfigError, SealError
from adapter.settings import DeliverySettings, load_settings
from adapter.signing import Signer
from adapter.store import Sealer, Store, Support, create_store_engine, migrate
from adapter.store.rekey import key_usage, rekey
from adapter.store.sealing import add_key, load_keyring, parse_keyring, remove_key
from adapter.store.tables import ANSWERS, EVENTS
from adapter.support import SupportDesk, masked
from adapter.testing import FixedClock, ScriptedCentral, keyring_file
from mappings import Facility
from monitoring import Metrics
from queues import Delivery, Disposition
from tests.support import events
from tests.support.events import AFFILIATED

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
FACILITY = Facility("71012314001", "40012345")
NAME = "An Janssens"


def ingest(store: Store, *bodies: bytes) -> None:
    """Store events as the consumer would."""
    deliveries = [Delivery(body, False, None) for body in bodies]
    assert Ingest(store, FACILITY, FixedClock(T0), Metrics())(deliveries) == [
        Disposition.ACK
    ] * len(bodies)


def invalid_event(event_id: str = "bad") -> bytes:
    """The bundled invalid example (an INSZ with a wrong check digit) as ``event_id``."""
    document = events.example("06-invalid-insz")
    document["id"] = event_id
    return json.dumps(document).encode()


def raw_payload(store: Store, event_id: str) -> str:
    """The events.payload column as stored."""
    with store.connection(read_only=True) as db:
        value = db.scalar(select(EVENTS.c.payload).where(EVENTS.c.event_id == event_id))
    assert value is not None
    return str(value)


def set_raw_payload(store: Store, event_id: str, value: str) -> None:
    """Write events.payload directly, as someone with access to the database could."""
    with store.connection() as db:
        db.execute(update(EVENTS).where(EVENTS.c.event_id == event_id).values(payload=value))


@pytest.fixture
def keyring(tmp_path: Path) -> Path:
    """A keyring file of this test's own with one key."""
    return keyring_file(tmp_path / "store-keyring")


@pytest.fixture
def file_store(store_url: str, keyring: Path) -> Store:
    """A migrated store sealing under the keyring file (which the test may rotate)."""
    engine = create_store_engine(store_url, 4)
    migrate(engine)
    sealer, _ = Sealer.from_file(keyring)
    return Store(engine, sealer=sealer)


class TestRoundTrip:
    """What goes into the store sealed comes out as it went in."""

    def test_a_payload_and_its_answer_round_trip_sealed(self, store: Store) -> None:
        """The columns hold vsb1: text without the INSZ; the engine reads the plain text."""
        body = events.application("e1", "D1", 1)
        ingest(store, body, invalid_event())
        raw = raw_payload(store, "e1")
        assert raw.startswith(f"vsb1:{store.sealer.keyring.current.key_id}:")
        assert AFFILIATED not in raw
        assert store.event_payload("e1") == body.decode()
        [claim] = store.claim_due(T0, "t", timedelta(seconds=60), 10)
        assert claim.payload == body.decode()
        assert claim.unreadable is None
        [answer] = store.unpublished_answers(10)
        with store.connection(read_only=True) as db:
            stored_body = db.scalar(select(ANSWERS.c.body))
        assert stored_body is not None
        assert stored_body.startswith("vsb1:")
        assert json.loads(answer.body)["resourceType"] == "Bundle"

    def test_two_seals_of_one_value_differ(self, store: Store) -> None:
        """A fresh nonce each time: equal payloads do not show as equal ciphertexts."""
        sealer = store.sealer
        assert sealer.seal("x", "events.payload", "e") != sealer.seal("x", "events.payload", "e")


class TestRotation:
    """A new key seals new rows, old rows still open, and the rekey moves them all."""

    def test_old_rows_open_after_rotation_and_new_rows_take_the_new_key(
        self, file_store: Store, keyring: Path
    ) -> None:
        """Sealed under the first key, read under a keyring whose current key is another."""
        old = file_store.sealer.keyring.current.key_id
        ingest(file_store, events.application("old", "D1", 1))
        new = add_key(keyring).key_id
        file_store.sealer.reload()
        ingest(file_store, events.application("new", "D2", 1))
        assert raw_payload(file_store, "old").startswith(f"vsb1:{old}:")
        assert raw_payload(file_store, "new").startswith(f"vsb1:{new}:")
        assert AFFILIATED in (file_store.event_payload("old") or "")

    def test_rekey_leaves_no_row_under_the_old_key_and_is_idempotent(
        self, file_store: Store, keyring: Path
    ) -> None:
        """Every payload and body moves to the current key; a second run finds nothing."""
        ingest(file_store, *(events.application(f"e{n}", f"D{n}", 1) for n in range(5)))
        old = file_store.sealer.keyring.current.key_id
        new = add_key(keyring).key_id
        file_store.sealer.reload()
        assert key_usage(file_store).by_key[old] == 5
        assert rekey(file_store) == 5
        usage = key_usage(file_store)
        assert (usage.by_key[old], usage.by_key[new], usage.plain, usage.unknown) == (0, 5, 0, 0)
        assert rekey(file_store) == 0
        remove_key(keyring, old)
        fresh, _ = Sealer.from_file(keyring)
        reopened = Store(file_store.engine, sealer=fresh)
        assert AFFILIATED in (reopened.event_payload("e3") or "")

    def test_an_interrupted_rekey_resumes(self, file_store: Store, keyring: Path) -> None:
        """Stopped after its first batch, a rerun re-seals only what is left."""
        ingest(file_store, *(events.application(f"e{n}", f"D{n}", 1) for n in range(5)))
        add_key(keyring)
        file_store.sealer.reload()

        def interrupt(done: int) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            rekey(file_store, batch_rows=2, progress=interrupt)
        assert rekey(file_store, batch_rows=2) == 3
        assert key_usage(file_store).by_key[file_store.sealer.keyring.current.key_id] == 5

    def test_a_batch_ends_at_its_byte_limit(self, file_store: Store, keyring: Path) -> None:
        """With a limit below one row, each batch re-seals one row, and all rows get done."""
        ingest(file_store, *(events.application(f"b{n}", f"DB{n}", 1) for n in range(3)))
        add_key(keyring)
        file_store.sealer.reload()
        batches: list[int] = []
        assert rekey(file_store, batch_bytes=1, progress=batches.append) == 3
        assert batches == [1, 2, 3]

    def test_a_row_stored_in_clear_is_read_and_sealed_by_the_rekey(self, store: Store) -> None:
        """A row of a release before sealing reads as it is; the rekey seals it."""
        body = events.application("legacy", "D1", 1)
        ingest(store, body)
        set_raw_payload(store, "legacy", body.decode())
        assert store.event_payload("legacy") == body.decode()
        assert key_usage(store).plain == 1
        assert rekey(store) == 1
        assert raw_payload(store, "legacy").startswith("vsb1:")
        assert store.event_payload("legacy") == body.decode()


class TestRefusedValues:
    """A tampered, moved or unknown-key value is refused with a clear error, never opened."""

    def test_a_tampered_ciphertext_is_refused(self, store: Store) -> None:
        """One byte changed: the tag fails and the error names the row, not the value."""
        ingest(store, events.application("e1", "D1", 1))
        raw = raw_payload(store, "e1")
        head, encoded = raw.rsplit(":", 1)
        data = bytearray(base64.urlsafe_b64decode(encoded))
        data[20] ^= 1
        set_raw_payload(store, "e1", f"{head}:{base64.urlsafe_b64encode(bytes(data)).decode()}")
        with pytest.raises(SealError, match=r"events\.payload of e1 does not open.*altered"):
            store.event_payload("e1")

    def test_a_value_moved_to_another_row_is_refused(self, store: Store) -> None:
        """The row's id is associated data: another row's ciphertext does not open here."""
        ingest(store, events.application("e1", "D1", 1), events.application("e2", "D2", 1))
        set_raw_payload(store, "e2", raw_payload(store, "e1"))
        with pytest.raises(SealError, match=r"events\.payload of e2 .*moved from another row"):
            store.event_payload("e2")

    def test_a_missing_key_names_its_key_id(self, store: Store, keyring: Path) -> None:
        """A keyring without the row's key says which key id it needs."""
        ingest(store, events.application("e1", "D1", 1))
        key_id = store.sealer.keyring.current.key_id
        other = Store(store.engine, sealer=Sealer.from_file(keyring)[0])
        with pytest.raises(SealError, match=f"sealed under key {key_id}, which store.key_file"):
            other.event_payload("e1")

    def test_an_unreadable_event_becomes_a_dead_letter_saying_why(
        self, store: Store, pki: DevPki
    ) -> None:
        """The sender builds nothing from it: a dead letter (reason unreadable) names the row."""
        ingest(store, events.application("e1", "D1", 1))
        set_raw_payload(store, "e1", "vsb1:gone:AAAA")
        clock = FixedClock(T0)
        sender = Sender(
            store,
            ScriptedCentral([]),  # nothing may be submitted
            Signer.from_keystore(pki.keystore, b"dev-only"),
            FACILITY,
            clock,
            Metrics(),
            CircuitBreaker(3, 60, clock),
            DeliverySettings(),
        )
        [claim] = store.claim_due(T0, "t", timedelta(seconds=60), 10)
        assert claim.unreadable is not None
        sender.send(claim)
        [dead] = Support(store).dead_letters()
        assert dead.last_error is not None
        assert dead.last_error.startswith("unreadable stored event: events.payload of e1")
        assert "key gone" in dead.last_error

    def test_an_unreadable_answer_does_not_hold_up_the_outbox(self, store: Store) -> None:
        """Skipped (and logged once), while the answers after it are published."""
        ingest(store, *(invalid_event(f"bad{n}") for n in range(3)))
        answers = store.unpublished_answers(10)
        assert len(answers) == 3
        with store.connection() as db:
            db.execute(
                update(ANSWERS)
                .where(ANSWERS.c.answer_id == answers[0].answer_id)
                .values(body="vsb1:gone:AAAA")
            )
        first = store.unpublished_answers(2)  # meets the unreadable one, leaves it out
        assert answers[0].answer_id not in {a.answer_id for a in first}
        readable = store.unpublished_answers(2)  # and from then on skips it
        assert [a.answer_id for a in readable] == [a.answer_id for a in answers[1:]]


class TestKeyringPoison:
    """A malformed keyring is a ConfigError naming the line, never quoting it."""

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("k1 " + base64.b64encode(b"x" * 16).decode(), "line 1: the key of k1 is 16 bytes"),
            ("# keys\nk1 not*base64!", "line 2: the key of k1 is not base64"),
            ("k1", "line 1: expected '<key id> <base64 key>'"),
            ("k:1 " + base64.b64encode(b"x" * 32).decode(), "line 1: a key id is 1-40"),
            ("", "holds no key"),
        ],
    )
    def test_a_bad_line_is_named(self, text: str, message: str) -> None:
        """The error names the file and the line; the key material is not in it."""
        with pytest.raises(ConfigError, match=message) as caught:
            parse_keyring(text, "/etc/k")
        assert "not*base64" not in str(caught.value)

    def test_a_keyring_others_can_read_is_refused(self, keyring: Path) -> None:
        """Mode 644: refused as the keystore is, with the chmod to run."""
        keyring.chmod(0o644)
        with pytest.raises(ConfigError, match="chmod 600"):
            load_keyring(keyring)

    def test_a_new_keyring_file_is_private(self, tmp_path: Path) -> None:
        """store-key create writes 600."""
        path = tmp_path / "k"
        add_key(path)
        assert path.stat().st_mode & 0o777 == 0o600

    def test_the_daemon_refuses_to_start_without_a_keyring(
        self,
        tmp_path: Path,
        sqlite_url: str,
        pki: DevPki,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """`run` exits with the setting's name and the command that creates a key."""
        from adapter.cli import main

        monkeypatch.setenv("VSB_STORE__URL", sqlite_url)
        monkeypatch.setenv("VSB_STORE__KEY_FILE", str(tmp_path / "missing"))
        monkeypatch.setenv("VSB_SIGNING__KEYSTORE", str(pki.keystore))
        monkeypatch.setenv("VSB_SIGNING__PASSPHRASE_FILE", str(pki.passphrase_file))
        monkeypatch.setenv("VSB_CENTRAL__ANSWER_CERTIFICATE", str(pki.central_cert))
        code = main(["run"])
        err = capsys.readouterr().err
        assert code == 1
        assert "store.key_file" in err
        assert "vsb-adapter store-key create" in err
        assert "Traceback" not in err

    def test_check_names_a_corrupt_line_beside_valid_settings(
        self,
        keyring: Path,
        sqlite_url: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """check prints a FAIL line for the keyring and goes on with the other checks."""
        from adapter.cli import main

        lines = keyring.read_text().splitlines()
        keyring.write_text(keyring.read_text() + "k2 short\n")
        monkeypatch.setenv("VSB_STORE__URL", sqlite_url)
        monkeypatch.setenv("VSB_STORE__KEY_FILE", str(keyring))
        monkeypatch.setenv("VSB_CENTRAL__URL", "https://127.0.0.1:9/soap")
        assert main(["check"]) == 1
        out = capsys.readouterr().out
        assert "FAIL store keyring" in out
        assert f"line {len(lines) + 1}: the key of k2 is not base64" in out
        assert "store reachable" in out


class TestSupportView:
    """Support sees an event masked; --unmask shows it in full and is audited."""

    def test_the_masked_view_shows_no_insz_nor_name(self, store: Store) -> None:
        """INSZ digits and names are masked in the payload and in the answers."""
        ingest(store, events.application("e1", "D1", 1), invalid_event())
        desk = SupportDesk(store, FACILITY, FixedClock(T0))
        for event_id in ("e1", "bad"):
            shown = desk.event(event_id)
            text = shown.payload + "".join(a.body for a in shown.answers)
            assert AFFILIATED not in text
            assert NAME not in text
        assert "*********28" in desk.event("e1").payload
        assert Support(store).audit_log() == []

    def test_unmask_needs_actor_and_reason_and_is_audited(self, store: Store) -> None:
        """The full payload only with both, and an audit line naming actor, reason, account."""
        ingest(store, events.application("e1", "D1", 1))
        desk = SupportDesk(store, FACILITY, FixedClock(T0))
        with pytest.raises(Exception, match="--reason"):
            desk.unmasked_event("e1", "Jan Peeters", "", "jan")
        assert Support(store).audit_log() == []
        shown = desk.unmasked_event("e1", "Jan Peeters", "ticket 4411", "jan")
        assert AFFILIATED in shown.payload
        [(_, actor, action, target, detail)] = Support(store).audit_log()
        assert (actor, action, target) == ("Jan Peeters", "unmask", "e1")
        assert json.loads(detail or "{}") == {"reason": "ticket 4411", "os_user": "jan"}

    def test_the_event_command_prints_nothing_personal_without_unmask(
        self,
        file_store: Store,
        keyring: Path,
        store_url: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """`vsb-adapter event` masks; with --unmask it prints the INSZ and audits the OS user."""
        from adapter.cli import main

        ingest(file_store, events.application("e1", "D1", 1))
        monkeypatch.setenv("VSB_STORE__URL", store_url)
        monkeypatch.setenv("VSB_STORE__KEY_FILE", str(keyring))
        monkeypatch.setenv("SUDO_USER", "jan")
        assert main(["event", "e1"]) == 0
        out = capsys.readouterr().out
        assert "e1" in out
        assert AFFILIATED not in out
        assert NAME not in out
        assert main(["event", "e1", "--unmask", "--actor", "Jan"]) == 1
        assert "--reason" in capsys.readouterr().err
        assert main(["event", "e1", "--unmask", "--actor", "Jan", "--reason", "ticket 1"]) == 0
        assert AFFILIATED in capsys.readouterr().out
        [(_, actor, action, _, detail)] = Support(file_store).audit_log()
        assert (actor, action) == ("Jan", "unmask")
        assert json.loads(detail or "{}")["os_user"] == "jan"

    def test_masking_keeps_the_structure(self) -> None:
        """Codes and systems stay readable; free text and non-JSON bodies do not."""
        shown = json.loads(masked('{"resourceType": "Patient", "name": {"text": "An"}}'))
        assert shown == {"resourceType": "Patient", "name": {"text": "***"}}
        assert masked("not json 85073003328") == (
            "<20 characters, not JSON: shown only with --unmask>"
        )


def test_settings_name_the_key_file() -> None:
    """store.key_file has a default (the demo's keyring) and cannot be empty."""
    assert load_settings(None, {}).store.key_file == "var/store-keyring"
    with pytest.raises(ConfigError, match=r"store\.key_file"):
        load_settings(None, {"VSB_STORE__KEY_FILE": ""})

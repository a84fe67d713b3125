"""The SQL store (SQLAlchemy 2): where events, messages, dossiers and answers live."""

from adapter.store.database import (
    InstanceLock,
    create_store_engine,
    exposed_store_file,
    migrate,
    schema_revision,
)
from adapter.store.ledger import InvoiceLedger
from adapter.store.records import (
    AnswerSource,
    Batch,
    BatchState,
    Claim,
    IngestResult,
    InvoiceResult,
    KnownStatus,
    LedgerLine,
    LineOutcome,
    MessageState,
    MessageView,
    NewEvent,
    PreparedAnswer,
    StoreStats,
)
from adapter.store.sealing import BlindIndex, Keyring, Sealer
from adapter.store.store import Store
from adapter.store.support import StoredAnswer, StoredEvent, Support, SupportError

__all__ = [
    "AnswerSource",
    "Batch",
    "BatchState",
    "BlindIndex",
    "Claim",
    "IngestResult",
    "InstanceLock",
    "InvoiceLedger",
    "InvoiceResult",
    "Keyring",
    "KnownStatus",
    "LedgerLine",
    "LineOutcome",
    "MessageState",
    "MessageView",
    "NewEvent",
    "PreparedAnswer",
    "Sealer",
    "Store",
    "StoreStats",
    "StoredAnswer",
    "StoredEvent",
    "Support",
    "SupportError",
    "create_store_engine",
    "exposed_store_file",
    "migrate",
    "schema_revision",
]

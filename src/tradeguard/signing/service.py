"""Creating, rotating and using the platform's Ed25519 signing key.

The private key lives in the database (table ``platform_keys``), beside the
records it signs: TradeGuard is already the custodian of the evidence, a
deployment needs no extra secret file to back up, and every API process and
worker signs with the same key without sharing a file system. What the key
proves is that a record was checkpointed by this platform and not altered
since; an operator who needs the key outside the database can restrict access
to that table (it is read only by this service).

Rotation makes a new generation current and keeps every older public key, so
signatures made before the rotation still verify.
"""

from __future__ import annotations

import base64
import threading

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tradeguard.kernel.errors import AlreadyExists
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.signing.model import PlatformKey, PlatformKeyMissing, Signature, key_id_for
from tradeguard.signing.ports import SigningUnitOfWork


class Signer:
    """A loaded private key that signs bytes; hold it only as long as the service's cache does."""

    __slots__ = ("_private", "key_id")

    def __init__(self, key_id: str, private_key_raw: bytes) -> None:
        self.key_id = key_id
        self._private = Ed25519PrivateKey.from_private_bytes(private_key_raw)

    def sign(self, data: bytes) -> Signature:
        """Sign ``data`` with this key."""
        return Signature(self.key_id, base64.b64encode(self._private.sign(data)).decode("ascii"))


class PlatformKeys:
    """The platform's signing keys (``app.platform_keys``).

    The current private key is cached after first use, so signing costs no
    database round trip. A rotation made by another process is picked up when
    this process restarts; until then it signs with the previous generation,
    which still verifies because old public keys are kept.
    """

    def __init__(self, units: UnitOfWorkRunner[SigningUnitOfWork], runtime: Runtime) -> None:
        self._units = units
        self._rt = runtime
        self._lock = threading.Lock()
        self._signer: Signer | None = None

    def init(self) -> PlatformKey:
        """Create the first key pair if there is none; return the current key either way.

        Running it twice is harmless: the second run changes nothing.
        """
        existing = self._load()
        if existing is not None:
            return existing
        try:
            return self._create(first=True)
        except AlreadyExists:  # another process created it at the same moment
            found = self._load()
            if found is None:  # pragma: no cover - the unique violation says a key exists
                raise
            return found

    def rotate(self) -> PlatformKey:
        """Make a new key current; older generations stay available for verification."""
        return self._create(first=False)

    def current(self) -> PlatformKey:
        """The key that signs now; raises PlatformKeyMissing before ``init``."""
        key = self._load()
        if key is None:
            raise PlatformKeyMissing()
        return key

    def generations(self) -> list[PlatformKey]:
        """Every generation of the key, oldest first."""
        return self._units.run(lambda uow: uow.platform_keys.keys())

    def public_keys(self) -> dict[str, str]:
        """Key id -> base64 raw public key, for every generation (what verifiers need)."""
        return {k.key_id: k.public_key_b64 for k in self.generations()}

    def signer(self) -> Signer:
        """The current key, loaded; creates the first key on first use if ``init`` never ran.

        Creating on first use means a fresh installation never fails to checkpoint
        a conversation; ``tradeguard keys platform-init`` does the same ahead of time.
        """
        signer = self._signer
        if signer is None:
            self.init()
            signer = self._signer
            if signer is None:  # pragma: no cover - init always loads the current key
                raise PlatformKeyMissing()
        return signer

    def sign(self, data: bytes) -> Signature:
        """Sign ``data`` with the current platform key."""
        return self.signer().sign(data)

    def _load(self) -> PlatformKey | None:
        found = self._units.run(lambda uow: uow.platform_keys.current())
        if found is None:
            return None
        key, private_raw = found
        with self._lock:
            if self._signer is None or self._signer.key_id != key.key_id:
                self._signer = Signer(key.key_id, private_raw)
        return key

    def _create(self, *, first: bool) -> PlatformKey:
        private = Ed25519PrivateKey.generate()
        public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        private_raw = private.private_bytes_raw()
        now = self._rt.clock.now()

        def work(uow: SigningUnitOfWork) -> PlatformKey:
            existing = uow.platform_keys.keys()
            if first and existing:
                raise AlreadyExists("The platform key already exists.")
            for old in existing:
                if old.retired_at is None:
                    uow.platform_keys.retire(old.key_id, now)
            generation = max((k.generation for k in existing), default=0) + 1
            key = PlatformKey(
                key_id_for(public_raw),
                generation,
                base64.b64encode(public_raw).decode("ascii"),
                now,
            )
            uow.platform_keys.insert(key, private_raw)
            return key

        key = self._units.run(work)
        with self._lock:
            self._signer = Signer(key.key_id, private_raw)
        return key

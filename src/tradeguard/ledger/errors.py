"""Errors of the ledger context."""

from __future__ import annotations

from tradeguard.kernel.errors import Conflict, ErrorKind, TradeGuardError


class InsufficientFunds(TradeGuardError):
    """The account does not hold enough money for this transfer."""

    code = "insufficient_funds"
    kind = ErrorKind.CONFLICT

    def __init__(self, address: str, currency: str, balance_minor: int, needed_minor: int) -> None:
        super().__init__(
            f"Account {address} holds {balance_minor} {currency} minor units; {needed_minor} needed.",
            account=address,
            currency=currency,
            balance_minor=balance_minor,
            needed_minor=needed_minor,
        )


class IdempotencyKeyReused(Conflict):
    """This idempotency key was already used for a different transfer."""

    code = "transfer_idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Transfer idempotency key {key!r} was already used for a different transfer.", key=key
        )

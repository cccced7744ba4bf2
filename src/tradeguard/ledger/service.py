"""Posting transfers: the one door through which money moves (DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradeguard.ledger.errors import IdempotencyKeyReused, InsufficientFunds
from tradeguard.ledger.model import AccountKey, Transfer, TransferRequest
from tradeguard.ledger.ports import LedgerStore


def post_transfers(
    store: LedgerStore,
    requests: Sequence[TransferRequest],
    at: datetime,
    *,
    watch: Sequence[AccountKey] = (),
) -> list[Transfer]:
    """Post ``requests`` atomically within the caller's unit of work and return the transfers.

    Order of checks, written once: lock every account involved (ascending id),
    check that no never-negative account would go below zero, then insert the
    transfers, skipping idempotency keys already taken, and only then move the
    cached balances. Because the keys are checked *under* the account locks, a
    concurrent twin is seen once it commits. Replaying the exact same requests
    returns the stored transfers and moves nothing; a key reused for different
    money is refused; a refusal leaves every row as it was (the unit of work
    rolls back). ``watch`` names accounts the caller reads next (see
    ``LedgerStore.lock_accounts``); they are locked too, if they exist.
    """
    if not requests:
        return []
    keys = sorted(
        {AccountKey(r.source, r.amount.currency) for r in requests}
        | {AccountKey(r.destination, r.amount.currency) for r in requests},
        key=lambda k: (k.address, k.currency),
    )
    accounts = store.lock_accounts(keys, at, watch)

    deltas: dict[int, int] = {}
    for r in requests:
        source = accounts[AccountKey(r.source, r.amount.currency)].id
        destination = accounts[AccountKey(r.destination, r.amount.currency)].id
        deltas[source] = deltas.get(source, 0) - r.amount.amount_minor
        deltas[destination] = deltas.get(destination, 0) + r.amount.amount_minor
    for account in accounts.values():
        if account.id not in deltas:
            continue  # watched, not moved
        if account.balance_minor + deltas[account.id] < 0 and not account.may_go_negative:
            # The money may already have moved: a replay must answer with the stored
            # transfers, not with "insufficient funds".
            replay = _replay(store, requests)
            if replay is not None:
                return replay
            raise InsufficientFunds(
                account.key.address,
                account.key.currency,
                account.balance_minor,
                -deltas[account.id],
            )

    inserted = store.insert_and_apply(
        requests, accounts, {k: v for k, v in deltas.items() if v}, at
    )
    if len(inserted) < len(requests):
        replay = _replay(store, requests) if not inserted else None
        if replay is not None:
            return replay
        taken = next(r.idempotency_key for r in requests if r.idempotency_key not in inserted)
        raise IdempotencyKeyReused(taken)
    for account in accounts.values():
        account.balance_minor += deltas.get(account.id, 0)
    return [inserted[r.idempotency_key] for r in requests]


def _replay(store: LedgerStore, requests: Sequence[TransferRequest]) -> list[Transfer] | None:
    """The stored transfers if every request was already posted exactly as asked, else None."""
    posted = store.find_transfers([r.idempotency_key for r in requests])
    if not posted:
        return None
    if len(posted) == len(requests) and all(
        r.idempotency_key in posted and posted[r.idempotency_key].same_movement(r) for r in requests
    ):
        return [posted[r.idempotency_key] for r in requests]
    raise IdempotencyKeyReused(
        next(r.idempotency_key for r in requests if r.idempotency_key in posted)
    )

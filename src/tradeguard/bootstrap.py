"""The composition root: builds the storage adapter and hands it to every service.

Adapters (API, CLI, simulator, tests) ask for an :class:`App` and never wire
services themselves, so there is one place where concrete storage, clock, ids
and policy meet the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from tradeguard.access.service import AccessService
from tradeguard.adapters.blobs import LocalBlobStore
from tradeguard.adapters.links import (
    BuyerHistoryFromContexts,
    CreditTierSource,
    DecisionToAfterSales,
    EscalationToDisputes,
)
from tradeguard.adapters.net import resolve
from tradeguard.adapters.storage import migrations
from tradeguard.adapters.storage.engine import make_engine
from tradeguard.adapters.storage.idempotency import IdempotencyStore
from tradeguard.adapters.storage.uow import SqlUnitOfWork, SqlUnits
from tradeguard.aftersales.service import AfterSalesService
from tradeguard.blobs.ports import BlobStore
from tradeguard.deadlines import service as deadlines
from tradeguard.deadlines.model import Deadline, Outcome, WorkerReport
from tradeguard.disputes.service import DisputeService
from tradeguard.events.webhooks import Resolver, WebhookService
from tradeguard.kernel.clock import Clock, SystemClock
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.runtime import Runtime
from tradeguard.ledger.model import AccountBalance, Violation
from tradeguard.merchants.service import MerchantService
from tradeguard.messaging.scan import ScamScanner
from tradeguard.messaging.service import MessagingService
from tradeguard.orders.service import OrderService, PayoutService
from tradeguard.orders.settlement import SettlementService
from tradeguard.policy import Policy, load_policy
from tradeguard.reputation.service import ReputationService
from tradeguard.reviews.service import ReviewService
from tradeguard.signing.service import PlatformKeys

Handler = Callable[[SqlUnitOfWork, Deadline, datetime], Outcome]


@dataclass
class App:
    """Every service of TradeGuard, wired to one database."""

    engine: Engine
    units: SqlUnits
    worker_units: SqlUnits  #: not pipelined: handlers run in savepoints that may roll back
    runtime: Runtime
    policy: Policy
    orders: OrderService
    payouts: PayoutService
    settlement: SettlementService
    access: AccessService
    webhooks: WebhookService
    idempotency: IdempotencyStore
    aftersales: AfterSalesService
    disputes: DisputeService
    platform_keys: PlatformKeys
    blobs: BlobStore
    scanner: ScamScanner
    messaging: MessagingService
    reviews: ReviewService
    reputation: ReputationService
    merchants: MerchantService

    @property
    def clock(self) -> Clock:
        """The clock every service reads."""
        return self.runtime.clock

    def deadline_handlers(self) -> dict[str, Handler]:
        """Every context's timer handlers, by deadline kind."""
        handlers: dict[str, Any] = {}
        handlers.update(self.orders.deadline_handlers())
        handlers.update(self.settlement.deadline_handlers())
        handlers.update(self.aftersales.deadline_handlers())
        handlers.update(self.disputes.deadline_handlers())
        handlers.update(self.reviews.deadline_handlers())
        return handlers

    def reminder_handlers(self) -> dict[str, Handler]:
        """Every context's reminder handlers, by deadline kind."""
        handlers: dict[str, Any] = {}
        handlers.update(self.orders.reminder_handlers())
        return handlers

    def run_deadlines(self, *, batch_size: int = 200) -> WorkerReport:
        """Fire everything due now (one ``worker --once`` pass until nothing is left)."""
        return deadlines.drain(
            self.worker_units,
            self.deadline_handlers(),
            self.clock,
            reminders=self.reminder_handlers(),
            batch_size=batch_size,
        )

    def verify_ledger(self) -> list[Violation]:
        """Every invariant of DESIGN.md §3, ledger and order settlement alike."""
        return self.units.run(lambda uow: [*uow.ledger.audit(), *uow.orders.audit_settlement()])

    def balances(self, address_prefix: str | None = None) -> list[AccountBalance]:
        """Cached account balances, optionally under an address prefix."""
        return self.units.run(lambda uow: uow.ledger.balances(address_prefix))

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def build_app(
    url: str | None = None,
    *,
    policy: Policy | None = None,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
    migrate: bool = True,
    pool_size: int = 10,
    engine: Engine | None = None,
    resolver: Resolver | None = None,
) -> App:
    """Wire TradeGuard to the database at ``url`` (default: ``TRADEGUARD_DATABASE_URL`` or SQLite)."""
    engine = engine or make_engine(url, pool_size=pool_size)
    if migrate:
        migrations.upgrade(engine)
    policy = policy or load_policy()
    runtime = Runtime(
        clock or SystemClock(), ids or IdFactory(), policy.calendar.working_calendar()
    )
    units = SqlUnits(engine)
    settlement = SettlementService(units, runtime, policy.settlement)
    orders = OrderService(units, runtime, policy.orders, settlement)
    platform_keys = PlatformKeys(units, runtime)
    blobs = LocalBlobStore.from_policy(policy.blobs)
    scanner = ScamScanner(policy.messaging.scan)
    messaging = MessagingService(units, runtime, policy.messaging, platform_keys, blobs, scanner)
    aftersales = AfterSalesService(units, runtime, policy.aftersales, orders, settlement)
    disputes = DisputeService(
        units,
        runtime,
        policy.disputes,
        orders,
        settlement,
        signer=platform_keys,
        blobs=blobs,
        chats=messaging,
        after_sales=DecisionToAfterSales(aftersales),
    )
    aftersales.escalation = EscalationToDisputes(disputes)
    reputation = ReputationService(units, runtime, policy.reputation)
    reviews = ReviewService(units, runtime, policy.reviews, reputation)
    merchants = MerchantService(units, runtime, policy.merchants)
    reputation.reviews = reviews
    reputation.merchants = merchants
    orders.completion_listeners.append(reviews.on_order_completed)  # type: ignore[arg-type]
    reputation.history = BuyerHistoryFromContexts()
    aftersales.tier_source = CreditTierSource(reputation)
    disputes.credit = reputation
    return App(
        engine=engine,
        units=units,
        worker_units=SqlUnits(engine, pipelined=False),
        runtime=runtime,
        policy=policy,
        orders=orders,
        payouts=PayoutService(units, runtime, settlement),
        settlement=settlement,
        access=AccessService(units, runtime),
        webhooks=WebhookService(units, runtime, policy.webhooks, resolver or resolve),
        idempotency=IdempotencyStore(engine),
        aftersales=aftersales,
        disputes=disputes,
        platform_keys=platform_keys,
        blobs=blobs,
        scanner=scanner,
        messaging=messaging,
        reviews=reviews,
        reputation=reputation,
        merchants=merchants,
    )

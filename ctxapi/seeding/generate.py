"""Synthetic data in the seed format: deterministic for a seed, streamed, any size.

Customers are generated one at a time and their records written straight to the twelve
files, so memory stays flat from a hundred customers to millions. The shapes follow what
support data looks like: orders per customer are heavy-tailed (most buy once or twice, a few
buy dozens of times); phone and email dominate the contacts, with chat and messaging rising
year by year; about 7% of parcels arrive late and 2% damaged; problems become cases that span
several contacts, often starting in self-service and switching channel; feedback follows the
outcome (a damaged parcel and a four-contact case do not earn a 5).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from ctxapi.store.graph import RECORD_TYPES

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)
HISTORY_DAYS = 3 * 365
CURRENCY = "EUR"

FIRST = (
    "Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Mia", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Wes", "Xenia", "Yusuf", "Zoe",
)  # fmt: skip
LAST = (
    "Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ivanova",
    "Jensen", "Kowalski", "Lopez", "Muller", "Novak", "Okafor", "Petit", "Rossi", "Silva",
    "Tanaka", "Urban", "Varga", "Weber", "Yilmaz", "Zhang",
)  # fmt: skip
CATEGORIES = ("jackets", "boots", "backpacks", "tents", "base layers", "gloves", "socks")
COUNTRIES = (("DE", "Berlin"), ("FR", "Lyon"), ("NL", "Utrecht"), ("GB", "Leeds"), ("US", "Austin"))
CARRIERS = ("DHL", "UPS", "DPD", "PostNL", "GLS")
RETURN_REASONS = (
    "too small", "too large", "damaged on arrival", "not as described", "changed mind",
)  # fmt: skip
TOPICS = {
    "late": "where_is_my_order", "damaged": "damaged_item", "return": "return_refund",
    "question": "pre_purchase_question", "account": "account",
}  # fmt: skip
ROUTINE = (
    "asked about sizing", "updated delivery address", "asked about opening hours",
    "changed newsletter preferences", "asked for an invoice copy", "loyalty points question",
)  # fmt: skip
NETWORKS = ("instagram", "x", "facebook", "tiktok")
APPS = ("whatsapp", "messenger")
# Channel weights in the first and the last year of the history; mixed linearly in between.
CHANNELS_THEN = {"phone": 36, "email": 30, "chat": 11, "messaging": 4, "sms": 6, "social": 5,
                 "web": 4, "in_store": 4}  # fmt: skip
CHANNELS_NOW = {"phone": 28, "email": 24, "chat": 18, "messaging": 12, "sms": 5, "social": 6,
                "web": 4, "in_store": 3}  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    """Catalog sizes that grow slowly with the number of customers."""

    brands: int
    agents: int
    bots: int
    products: int

    @classmethod
    def for_customers(cls, customers: int) -> Sizes:
        return cls(
            brands=3,
            agents=max(5, min(2000, customers // 500)),
            bots=2,
            products=max(20, min(20_000, customers // 20)),
        )


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


class _Files:
    """The twelve output files, written as JSON Lines."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.handles: dict[str, IO[bytes]] = {
            t.name: (folder / f"{t.name}.jsonl").open("wb", buffering=1 << 20) for t in RECORD_TYPES
        }
        self.counts = dict.fromkeys(self.handles, 0)

    def write(self, kind: str, record: dict[str, Any]) -> None:
        self.handles[kind].write(orjson.dumps(record) + b"\n")
        self.counts[kind] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


class Generator:
    """Writes ``customers`` customers and everything around them into ``folder``."""

    def __init__(self, customers: int, seed: int, as_of: datetime = AS_OF) -> None:
        self.customers = customers
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.sizes = Sizes.for_customers(customers)
        self.prices: list[int] = []

    def run(self, folder: Path, progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """Generate everything; return the number of records per type."""
        files = _Files(folder)
        try:
            self._catalog(files)
            for n in range(self.customers):
                self._customer(files, n)
                if progress is not None and n % 1000 == 999:
                    progress(n + 1)
            if progress is not None:
                progress(self.customers)
        finally:
            files.close()
        return files.counts

    # -- shared records ----------------------------------------------------------------------
    def _catalog(self, files: _Files) -> None:
        rng = self.rng
        for b in range(self.sizes.brands):
            files.write("brands", {"id": f"brand-{b}", "name": f"Brand {b}"})
        for a in range(self.sizes.agents):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            team = rng.choice(("tier1", "tier1", "tier1", "tier2", "returns"))
            files.write("agents", {"id": f"agent-{a}", "name": name, "team": team})
        for b in range(self.sizes.bots):
            files.write("agents", {"id": f"bot-{b}", "name": f"Assistant {b}", "bot": True})
        for p in range(self.sizes.products):
            price = int(rng.lognormvariate(8.3, 0.7)) // 10 * 10 + 990  # about 20-300 EUR
            self.prices.append(price)
            category = CATEGORIES[p % len(CATEGORIES)]
            files.write(
                "products",
                {
                    "id": f"SKU-{p:06d}",
                    "name": f"{category.title()} model {p}",
                    "category": category,
                    "price": _money(price),
                    "currency": CURRENCY,
                },
            )

    # -- one customer ------------------------------------------------------------------------
    def _customer(self, files: _Files, n: int) -> None:
        rng = self.rng
        cid = f"cust-{n:07d}"
        joined = self.as_of - timedelta(days=rng.uniform(30, HISTORY_DAYS))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        orders = min(200, int(rng.paretovariate(1.6)))  # heavy tail: mostly 1-2, a few dozens
        tier = "vip" if orders >= 12 else "gold" if orders >= 6 else "standard"
        files.write(
            "customers",
            {
                "id": cid,
                "brand": f"brand-{n % self.sizes.brands}",
                "name": f"{first} {last}",
                "tier": tier,
                "createdAt": _ts(joined),
            },
        )
        country, city = COUNTRIES[n % len(COUNTRIES)]
        files.write(
            "addresses",
            {
                "id": f"addr-{n:07d}",
                "customer": cid,
                "line1": f"{rng.randint(1, 200)} Market Street",
                "city": city,
                "postalCode": f"{rng.randint(10000, 99999)}",
                "country": country,
            },
        )
        identities = self._identities(files, n, cid, first, last, joined)
        problems = []
        for o in range(orders):
            problems += self._order(files, n, o, cid, joined)
        if rng.random() < 0.08:  # a question before buying, sometimes never answered
            problems.append(("question", None, self.as_of - timedelta(days=rng.uniform(1, 60))))
        contact = self._contacts(files, n, cid, identities, problems)
        for k in range(int(rng.expovariate(1 / 1.5))):  # routine contacts, no case needed
            at = joined + (self.as_of - joined) * rng.random()
            channel = self._channel(at)
            record: dict[str, Any] = {
                "id": f"int-{n:07d}-{contact + k:03d}",
                "customer": cid,
                "channel": channel,
                "direction": "outbound" if rng.random() < 0.15 else "inbound",
                "occurredAt": _ts(at),
                "summary": rng.choice(ROUTINE),
                "topic": "account" if k % 2 else "general",
                "status": "resolved",
                "sentiment": round(max(-1.0, min(1.0, rng.gauss(0.3, 0.3))), 2),
                "agent": f"agent-{self._agent()}",
                "respondedAt": _ts(at + timedelta(minutes=rng.expovariate(1 / 30))),
            }
            identity = self._identity_for(channel, identities)
            if identity is not None:
                record["identity"] = identity
            files.write("interactions", record)
        if orders and rng.random() < 0.25:
            negatives = sum(1 for kind, *_ in problems if kind in ("late", "damaged"))
            score = max(0, min(10, round(rng.gauss(8.5 - 3 * negatives, 1.5))))
            files.write(
                "feedback",
                {
                    "id": f"nps-{n:07d}",
                    "customer": cid,
                    "kind": "nps",
                    "score": score,
                    "submittedAt": _ts(self.as_of - timedelta(days=rng.uniform(1, 200))),
                },
            )

    def _identities(
        self, files: _Files, n: int, cid: str, first: str, last: str, joined: datetime
    ) -> list[tuple[str, str, str]]:
        """(channel, kind, value) of each identity this customer gets."""
        rng = self.rng
        email = f"{first}.{last}.{n}@example.com".lower()
        # A household shares the landline of the customer generated just before (about 1%).
        line = n - 1 if n and rng.random() < 0.01 else n
        phone = f"+1{200 + line // 10_000_000:03d}{line % 10_000_000:07d}"
        found = [("email", "email", email), ("phone", "phone", phone)]
        if rng.random() < 0.3:
            found.append(("social", "social", f"{rng.choice(NETWORKS)}:{first}{last}{n}".lower()))
        if rng.random() < 0.25:
            found.append(("messaging", "messaging", f"{rng.choice(APPS)}:{phone}"))
        if rng.random() < 0.3:
            found.append(("chat", "chat", f"livechat:v{n:07d}"))
        for _channel, kind, value in found:
            files.write(
                "identities",
                {
                    "customer": cid,
                    "kind": kind,
                    "value": value,
                    "source": "shop" if kind in ("email", "phone") else "support",
                    "confidence": 1.0 if kind == "email" else round(rng.uniform(0.7, 1.0), 2),
                    "linkedAt": _ts(joined),
                },
            )
        return found

    def _order(
        self, files: _Files, n: int, o: int, cid: str, joined: datetime
    ) -> list[tuple[str, str | None, datetime]]:
        """Write one order with its shipment and maybe a return; return the problems it had."""
        rng = self.rng
        oid = f"ord-{n:07d}-{o:03d}"
        placed = joined + (self.as_of - joined) * rng.random()
        lines: list[dict[str, Any]] = []
        total = 0
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            p, quantity = rng.randrange(self.sizes.products), rng.choice((1, 1, 1, 2))
            lines.append({"product": f"SKU-{p:06d}", "quantity": quantity,
                          "unitPrice": _money(self.prices[p])})  # fmt: skip
            total += self.prices[p] * quantity
        age = (self.as_of - placed).days
        roll = rng.random()
        status = (
            "abandoned" if roll < 0.04 else "cancelled" if roll < 0.06
            else "delivered" if age > 10 else rng.choice(("paid", "shipped", "shipped"))
        )  # fmt: skip
        problems: list[tuple[str, str | None, datetime]] = []
        shipment = None
        if status in ("delivered", "shipped"):
            promised = placed + timedelta(days=rng.randint(2, 5))
            late = rng.random() < 0.07
            damaged = status == "delivered" and rng.random() < 0.02
            shipment = {
                "id": f"shp-{n:07d}-{o:03d}",
                "order": oid,
                "carrier": rng.choice(CARRIERS),
                "trackingNumber": f"TRK{n:07d}{o:03d}",
                "shippedAt": _ts(placed + timedelta(hours=rng.uniform(4, 40))),
                "promisedAt": _ts(promised),
            }
            if status == "delivered":
                delivered = promised + timedelta(days=rng.uniform(1, 6) if late else -rng.random())
                shipment |= {"status": "delivered", "deliveredAt": _ts(delivered),
                             "condition": "damaged" if damaged else "ok"}  # fmt: skip
            else:
                shipment["status"] = "delayed" if late else "in_transit"
            if late:
                problems.append(("late", oid, promised + timedelta(days=1)))
            if damaged:
                problems.append(("damaged", oid, promised + timedelta(days=1)))
        files.write(
            "orders",
            {
                "id": oid,
                "customer": cid,
                "number": f"{n:07d}{o:03d}",
                "placedAt": _ts(placed),
                "status": status,
                "channel": rng.choice(("web", "web", "web", "app", "app", "store", "phone")),
                "total": _money(total),
                "currency": CURRENCY,
                "items": lines,
            },
        )
        if shipment is not None:
            files.write("shipments", shipment)
        if status == "delivered" and rng.random() < 0.08:
            problems.append(("return", oid, self._return(files, n, o, oid, placed, total)))
        return problems

    def _return(
        self, files: _Files, n: int, o: int, oid: str, placed: datetime, total: int
    ) -> datetime:
        rng = self.rng
        requested = placed + timedelta(days=rng.uniform(5, 25))
        status = rng.choice(
            ("refunded", "refunded", "refunded", "received", "approved", "rejected")
        )
        record: dict[str, Any] = {
            "id": f"ret-{n:07d}-{o:03d}",
            "order": oid,
            "reason": rng.choice(RETURN_REASONS),
            "status": status,
            "requestedAt": _ts(requested),
        }
        if status in ("received", "refunded"):
            record["receivedAt"] = _ts(requested + timedelta(days=rng.uniform(2, 6)))
            record |= {"refundAmount": _money(total), "currency": CURRENCY}
        if status == "refunded":
            record["refundedAt"] = _ts(requested + timedelta(days=rng.uniform(6, 12)))
        files.write("returns", record)
        return requested

    def _contacts(
        self,
        files: _Files,
        n: int,
        cid: str,
        identities: list[tuple[str, str, str]],
        problems: list[tuple[str, str | None, datetime]],
    ) -> int:
        """Cases for problems the customer raised, their contacts and feedback; contacts made."""
        rng = self.rng
        contact = 0
        for c, (kind, oid, when) in enumerate(problems):
            if kind == "late" and rng.random() < 0.5:
                continue  # half of late parcels are never asked about
            case_id = f"case-{n:07d}-{c:02d}"
            opened = min(when, self.as_of - timedelta(hours=1))
            contacts = 1 + min(5, int(rng.expovariate(0.9)))
            resolved = opened < self.as_of - timedelta(days=3) and rng.random() < 0.85
            channel = self._channel(opened)
            self_service = channel in ("chat", "web") and rng.random() < 0.5
            at = opened
            for k in range(contacts):
                if k and rng.random() < 0.35:
                    channel = self._channel(at)  # a channel switch within the case
                identity = self._identity_for(channel, identities)
                last = k == contacts - 1
                bot = self_service and k == 0
                status = (
                    "unanswered" if kind == "question" and rng.random() < 0.4
                    else "resolved" if last and resolved else "escalated" if bot else "open"
                )  # fmt: skip
                record: dict[str, Any] = {
                    "id": f"int-{n:07d}-{contact:03d}",
                    "customer": cid,
                    "channel": channel,
                    "direction": "inbound",
                    "occurredAt": _ts(at),
                    "summary": f"{TOPICS[kind].replace('_', ' ')}: contact {k + 1}",
                    "topic": TOPICS[kind],
                    "status": status,
                    "sentiment": round(max(-1.0, min(1.0, rng.gauss(-0.2 - 0.1 * k, 0.3))), 2),
                    "selfService": bot,
                }
                if status != "unanswered":
                    agent = f"bot-{n % self.sizes.bots}" if bot else f"agent-{self._agent()}"
                    record["agent"] = agent
                    record["respondedAt"] = _ts(at + timedelta(minutes=rng.expovariate(1 / 90)))
                if kind != "question":
                    record["case"] = case_id
                if identity is not None:
                    record["identity"] = identity
                if oid is not None:
                    record["about"] = [{"type": "order", "id": oid}]
                files.write("interactions", record)
                contact += 1
                at = min(at + timedelta(hours=rng.uniform(2, 72)), self.as_of)
            if kind == "question":
                continue
            files.write(
                "cases",
                {
                    "id": case_id,
                    "customer": cid,
                    "subject": TOPICS[kind].replace("_", " "),
                    "status": "resolved" if resolved else "open",
                    "priority": "high" if kind == "damaged" else "normal",
                    "openedAt": _ts(opened),
                    **({"resolvedAt": _ts(at)} if resolved else {}),
                },
            )
            if resolved and rng.random() < 0.45:  # CSAT follows effort and outcome
                score = max(1, min(5, round(rng.gauss(4.6 - 0.5 * contacts, 0.8))))
                files.write(
                    "feedback",
                    {
                        "id": f"csat-{n:07d}-{c:02d}",
                        "customer": cid,
                        "kind": "csat",
                        "score": score,
                        "submittedAt": _ts(at + timedelta(hours=2)),
                        "rates": {"type": "case", "id": case_id},
                    },
                )
        return contact

    def _agent(self) -> int:
        return self.rng.randrange(self.sizes.agents)

    def _channel(self, moment: datetime) -> str:
        share = 1 - (self.as_of - moment).days / HISTORY_DAYS
        share = min(1.0, max(0.0, share))
        channels = list(CHANNELS_THEN)
        weights = [CHANNELS_THEN[c] * (1 - share) + CHANNELS_NOW[c] * share for c in channels]
        return self.rng.choices(channels, weights)[0]

    @staticmethod
    def _identity_for(
        channel: str, identities: list[tuple[str, str, str]]
    ) -> dict[str, str] | None:
        wanted = {"sms": "phone"}.get(channel, channel)
        for identity_channel, kind, value in identities:
            if identity_channel == wanted:
                return {"kind": kind, "value": value}
        return None

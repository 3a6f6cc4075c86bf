"""The dispatcher: announces queue items that fell due and sends the deliveries due now.

Run any number at once (``ctxapi webhooks deliver`` on several hosts, and ``ctxapi run``
starts one): announcements are unique in the ledger, and deliveries are leased
(``ctxapi.webhooks.delivery``). Neo4j going away pauses it; it carries on when Neo4j is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import LiteralString

from ctxapi.config import Settings
from ctxapi.db import Database, DatabaseUnavailable
from ctxapi.webhooks import delivery, due

log = logging.getLogger("ctxapi.webhooks")

#: Delivered deliveries are kept this long for ``status`` counts, then removed.
KEEP_DELIVERED_DAYS = 7
# Delivered ones past keeping, and any left by a webhook removed while a write made them.
_PRUNE: LiteralString = """
MATCH (d:Delivery)
WHERE (d.state = 'delivered' AND d.due < $before)
   OR NOT EXISTS { MATCH (:Webhook {id: d.webhook}) }
WITH d LIMIT 10000 DELETE d RETURN count(*) AS n
"""


class Dispatcher:
    """One dispatcher process's work, over one database."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def deliver(self) -> Counter[str]:
        """Send every delivery due now (not the retries this round schedules), a batch at a
        time, each batch's requests at once; the outcomes counted: delivered, pending (to try
        again), dead, lost."""
        outcomes: Counter[str] = Counter()
        start = time.time()
        with ThreadPoolExecutor(delivery.BATCH, thread_name_prefix="webhook") as pool:
            while (claimed := delivery.claim(self.db, self.settings, due_by=start)) is not None:
                sent = {pool.submit(delivery.post, one, self.settings): one for one in claimed}
                for done in as_completed(sent):  # each settled as soon as it is answered
                    answer = done.result()
                    outcomes[delivery.settle(self.db, self.settings, sent[done], answer)] += 1
        return outcomes

    def announce(self) -> int:
        """Write a ``queue.item_due`` event for each queue item newly due; how many."""
        made = due.scan(self.db, self.settings)
        if made:
            log.info("announced %d queue item(s) fallen due", made)
        return made

    def prune(self) -> int:
        before = time.time() - KEEP_DELIVERED_DAYS * 86400
        return int(self.db.write(lambda tx: tx.run(_PRUNE, before=before).single(strict=True))["n"])

    def once(self) -> Counter[str]:
        """Announce what fell due, then send everything due now (``deliver --once``)."""
        announced = self.announce()
        return self.deliver() + Counter(announced=announced)

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set: deliver every ``webhook_poll`` seconds, announce and prune
        every ``webhook_due_scan`` seconds."""
        scan_at = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= scan_at:
                    self.announce()
                    self.prune()
                    scan_at = time.monotonic() + self.settings.webhook_due_scan
                self.deliver()
            except DatabaseUnavailable as error:
                log.warning("webhooks paused: %s", error)
            except Exception:  # logged without values; the next round tries again
                log.exception("webhooks: a round failed")
                stop.wait(self.settings.webhook_poll * 5)
            stop.wait(self.settings.webhook_poll)

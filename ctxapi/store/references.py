"""Do a record's references exist? One check for the loader's batches and the mutations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from neo4j import ManagedTransaction

from ctxapi.store.graph import MISSING_IDENTITIES, MISSING_IDS, Reference


def describe(ref: Reference) -> str:
    """Why a reference fails, in words a data engineer or a client acts on."""
    label, value = ref
    if label == "Identity":
        return (
            f"identity {value[0]} {value[1]!r} is not one of customer {value[2]!r}'s "
            "(load it in identities first)"
        )
    return f"{label.lower()} {value!r} does not exist"


def missing_references(
    tx: ManagedTransaction, references: Iterable[Reference], known: Iterable[Reference] = ()
) -> set[Reference]:
    """The references of ``references`` that name nothing in the graph (``known``: some that
    the transaction has found already, not asked again)."""
    wanted: dict[str, set[Any]] = defaultdict(set)
    for label, value in references:
        wanted[label].add(value)  # identity keys are tuples already, so hashable
    for label, value in known:
        wanted[label].discard(value)
    absent: set[Reference] = set()
    for label, values in wanted.items():
        if not values:
            continue
        if label == "Identity":
            keys = [list(value) for value in values]
            missing = tx.run(MISSING_IDENTITIES, keys=keys).single(strict=True)["missing"]
            absent.update(("Identity", tuple(key)) for key in missing)
        else:
            missing = tx.run(MISSING_IDS[label], ids=list(values)).single(strict=True)["missing"]
            absent.update((label, value) for value in missing)
    return absent

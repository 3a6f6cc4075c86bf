"""Brand isolation as Cypher: the one fragment every customer a query reaches passes through.

Every compiled query carries ``$__brands``: the brands of the request's key, or null for a
key of every brand (and ctxapi's own commands). An entry point keeps only customers of those
brands before it returns, counts or judges them (an identifier shared by a customer of a
sister brand is not ambiguous to a key of one brand), and so does every fragment that reaches
*other* customers: shared identities, the counts of other customers with the same problem,
the proactive queue. The text is the same for every key, so every key shares one plan.
"""

from __future__ import annotations

from typing import LiteralString


def of_brands(path: LiteralString, brand: LiteralString) -> LiteralString:
    """True when the customer at the end of ``path`` (a pattern) is of the key's brands;
    ``brand`` names the brand node inside (unique in the enclosing query)."""
    return (
        "($__brands IS NULL OR EXISTS { MATCH " + path + "-[:OF_BRAND]->(" + brand + ":Brand)"
        " WHERE " + brand + ".id IN $__brands })"
    )


def in_brands(customer: LiteralString) -> LiteralString:
    """True when the customer bound to ``customer`` is of the key's brands."""
    return of_brands("(" + customer + ")", customer + "brand")


def owns(owner: LiteralString, thing: LiteralString) -> LiteralString:
    """True when ``thing`` is a product (shared by every brand) or belongs to the customer
    ``owner``: their order, parcel, return, case, contact or feedback. Links between records
    (a contact's case, what it was about, what feedback rates) pass through it, so a link to
    another customer's record, which a loader mistake could make, never shows that record."""
    return (
        "(" + thing + ":Product"
        " OR EXISTS { MATCH (" + owner + ")-[:PLACED|OPENED|HAD|GAVE]->(" + thing + ") }"
        " OR EXISTS { MATCH (" + owner + ")-[:PLACED]->(:Order)-[:SHIPPED_AS]->(" + thing + ") }"
        " OR EXISTS { MATCH (" + owner + ")-[:PLACED]->(:Order)<-[:RETURNS]-(" + thing + ") })"
    )

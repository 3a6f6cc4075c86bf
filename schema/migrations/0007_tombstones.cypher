// Erasure (ctxapi/store/erasure.py, docs/write-back.md "Erasure"). A Tombstone holds a keyed
// hash (HMAC-SHA256 with the erasure pepper) of an erased customer's id, of an identifier only
// they had, or of one of their orders' ids: the loader looks up every record's keys here and
// suppresses the records of erased customers. TombstonePepper holds the one check of the
// pepper every erasure and load compares theirs with. ErasedCustomer is the anonymous holder
// of the de-identified orders, contacts and feedback an erasure keeps for aggregates.
CREATE CONSTRAINT tombstone_key IF NOT EXISTS FOR (t:Tombstone) REQUIRE t.key IS UNIQUE;
CREATE CONSTRAINT tombstone_pepper_id IF NOT EXISTS FOR (p:TombstonePepper) REQUIRE p.id IS UNIQUE;
CREATE CONSTRAINT erased_customer_id IF NOT EXISTS FOR (e:ErasedCustomer) REQUIRE e.id IS UNIQUE;

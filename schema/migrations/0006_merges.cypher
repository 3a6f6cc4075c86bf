// Merges of customers (ctxapi/store/merging.py): one Merge per mergeCustomers, found by its
// id for unmergeCustomers; a customer's merges (as survivor or merged away) by their ids, for
// the history and for erasure. The merged customer is labelled Merged (no index: reads test
// the label of a node they already have).
CREATE CONSTRAINT merge_id IF NOT EXISTS FOR (m:Merge) REQUIRE m.id IS UNIQUE;
CREATE INDEX merge_survivor IF NOT EXISTS FOR (m:Merge) ON (m.survivor);
CREATE INDEX merge_merged IF NOT EXISTS FOR (m:Merge) ON (m.merged);

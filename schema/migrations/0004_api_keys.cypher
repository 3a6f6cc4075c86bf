// API keys (ctxapi keys …): a key is stored only as the SHA-256 of its secret. Each API
// instance finds a request's key by that hash (`hash`, or `previousHash` during a rotation's
// grace period), so Neo4j is the one source of truth for every instance.
CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.id IS UNIQUE;
CREATE CONSTRAINT api_key_name IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.name IS UNIQUE;
CREATE CONSTRAINT api_key_hash IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.hash IS UNIQUE;
CREATE INDEX api_key_previous_hash IF NOT EXISTS FOR (k:ApiKey) ON (k.previousHash);

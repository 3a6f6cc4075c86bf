// Gladly Lookup Adapters (ctxapi gladly …, docs/gladly.md): one node per adapter a brand's
// Gladly calls. Its id is also the Basic-auth user name; the password is stored only as its
// SHA-256; the signing secret is kept as it is (verifying an HMAC needs it).
CREATE CONSTRAINT gladly_adapter_id IF NOT EXISTS FOR (a:GladlyAdapter) REQUIRE a.id IS UNIQUE;

"""The Gladly Lookup Adapter: ``POST /gladly/lookup`` answers a brand's Gladly with the
profiles and orders ctxapi knows (docs/gladly.md)."""

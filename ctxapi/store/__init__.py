"""The one write path: what a record is (``records``: schemas, normalization) and how it is
written (``graph``: static Cypher per record type), shared by the loader (``ctxapi.seeding``)
and the API's mutations (``ctxapi.graphql``)."""

"""The only read path to the published snapshot: connection, caches, all read SQL and
the publication rules."""

"""Media lifecycle: inputs published for providers that fetch by URL, and cleanup of media past its TTL
(the stores themselves are :mod:`photochanger.storage`)."""

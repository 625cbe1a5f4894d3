"""The reading list as data: entries, sessions, topics, terms, keys, identifiers."""

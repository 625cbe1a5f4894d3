"""Enrichment: what to take from the sources and how it merges into an entry (merge),
published versions of preprints, free copies, the resolver, the sources of a run (setup)."""

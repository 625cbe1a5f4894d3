"""The BibTeX file format: lossless store, syntax checks, values, names."""

"""dlg-bib: the reading-group bibliography, from BibTeX to README, handout and index."""

__version__ = "0.1.0"

"""One core function per editing or checking command: lint, tag, import, term."""

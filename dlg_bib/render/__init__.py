"""Render the database: README (Markdown), session handout (Typst → PDF), JSON index.

`context` builds one pure view-model from `model.Database`; each output module escapes that
view-model for its own syntax (`escape` for Markdown, `sys_inputs` JSON for Typst, `json`
for the index) and renders it through a Jinja template (`environment`).
"""

"""A fast splitter for well-formed `.bib` text, equal to bibtexparser's where it answers.

bibtexparser's splitter walks every brace, quote, comma and newline in Python; on 10,000
entries that costs about as much as a whole bare `parse_file` run, the largest single phase
of `index` (bench/NOTES.md). Here compiled regular expressions match a whole field at a
time, and the blocks built are the very bibtexparser objects its splitter would build.

Only text this module fully understands gets an answer: `@type{key, name = value, ...}`
with values made of `{balanced}` braces, `"quoted"` strings and bare words joined by `#`;
`@string`, `@preamble`, `@comment`; any text between blocks. For anything else (parentheses
as delimiters, duplicate keys, a block start inside a block, escaped newlines, `{"}`, deeper
brace nesting than `_DEPTH`, any syntax error) `split` returns None and the caller must use
bibtexparser for the whole file: a guess here could lose data on write-back.

The rules mirrored from bibtexparser 2.x's splitter (splitter.py): a brace, quote, comma,
equals sign or newline preceded by a backslash is no mark; a block starts at any `@word`
followed by `{` or `(`, wherever it is outside blocks; inside a quoted field value braces do
not count; in `@string`, `@preamble` and `@comment` only braces count; line numbers are
0-based and count the newlines before the `@` (or, for a field, before its `=`).
"""

from __future__ import annotations

import re

import bibtexparser
from bibtexparser import model as bpm

# The splitter version these rules were proven against (tests/test_fastsplit.py); another
# one may split differently, so it gets no fast answer until the tests ran against it.
PROVEN_WITH = "2.1.0"
_PROVEN = getattr(bibtexparser, "__version__", None) == PROVEN_WITH
_DEPTH = 8  # brace nesting a field may have; deeper values fall back

_BLOCK_START = re.compile(r"@\w*[ \t]*(?=[{(])")
_WS = r"[ \t\r\n]*"


def _braced_inner(depth: int) -> str:
    # A backslash makes the following brace an ordinary character, as in bibtexparser's marks;
    # the alternatives start with distinct characters, so possessive repeats lose no match.
    inner = r"(?:[^{}\\]++|\\++[{}]?)*+"
    for _ in range(depth):
        inner = r"(?:[^{}\\]++|\\++[{}]?|\{" + inner + r"\})*+"
    return inner


_INNER = _braced_inner(_DEPTH)
_BRACED = r"\{" + _INNER + r"\}"
_BARE = r"[\w\-:.+/]+"
# In an entry a quoted value ends at the first quote not preceded by a backslash; braces
# inside it do not count (bibtexparser ignores them there).
_QUOTED = r'"(?:[^"\\]++|\\++"?)*+"'
# In @string only braces count (a quote is no mark there): a quoted part's braces must balance.
_QUOTED_BALANCED = r'"(?:[^"\\{}]++|\\++["{}]?|' + _BRACED + r')*+"'


def _value(quoted: str) -> str:
    piece = f"(?:{_BRACED}|{quoted}|{_BARE})"
    return f"{piece}(?:{_WS}#{_WS}{piece})*+"


_NAME = r"[^\s{}\",=\\@#%()]+"
_ENTRY_KEY = re.compile(_WS + f"({_NAME})" + _WS + r"([,}])")
_FIELD = re.compile(
    _WS + r"(?:(\})|([\w\-:.+/]+)" + _WS + "(=)" + _WS + f"({_value(_QUOTED)})" + _WS + r"([,}]))"
)
_STRING = re.compile(
    _WS + f"({_NAME})" + _WS + "=" + _WS + f"({_value(_QUOTED_BALANCED)})" + _WS + r"\}"
)
_FREE_TEXT = re.compile(r"\{(" + _INNER + r")\}")


def split(text: str) -> list[bpm.Block] | None:
    """The blocks `bibtexparser.parse_string(text, parse_stack=[])` gives, or None."""
    if not _PROVEN or '{"}' in text or "\\\n" in text:
        return None
    blocks: list[bpm.Block] = []
    entry_keys: set[str] = set()
    string_keys: set[str] = set()
    line, counted = 0, 0  # newlines in text[:counted]
    pos = 0  # where the text between blocks starts
    search_block = _BLOCK_START.search
    match_field = _FIELD.match
    count = text.count
    field = bpm.Field
    while True:
        m = search_block(text, pos)
        gap_end = m.start() if m is not None else len(text)
        if gap_end > pos and not text[pos:gap_end].isspace():
            line += count("\n", counted, pos)
            counted = pos
            blocks.append(_implicit_comment(text[pos:gap_end], line))
        if m is None:
            break
        at = m.start()
        open_at = m.end()
        if text[open_at] != "{":
            return None
        line += count("\n", counted, at)
        counted = at
        kind = m.group().lower()
        block: bpm.Block
        if kind.startswith(("@comment", "@preamble", "@string")):
            found = _special_block(text, kind, at, open_at, line)
            if found is None:
                return None
            block, end = found
            if isinstance(block, bpm.String):
                if block.key in string_keys:
                    return None
                string_keys.add(block.key)
        else:
            entry_type = kind[1:].strip()
            head = _ENTRY_KEY.match(text, open_at + 1)
            if not entry_type or head is None:
                return None
            key, close = head.groups()
            if key in entry_keys:
                return None
            entry_keys.add(key)
            fields: list[bpm.Field] = []
            names: set[str] = set()
            end = head.end()
            field_line, field_counted = line, at
            while close == ",":
                f = match_field(text, end)
                if f is None:
                    return None
                end = f.end()
                trailing, name, _, value, close = f.groups()
                if trailing is not None:  # `}` after a last comma
                    break
                if name in names:
                    return None
                names.add(name)
                equals = f.start(3)
                field_line += count("\n", field_counted, equals)
                field_counted = equals
                fields.append(field(start_line=field_line, key=name, value=value))
            block = bpm.Entry(
                start_line=line, entry_type=entry_type, key=key, fields=fields, raw=text[at:end]
            )
        blocks.append(block)
        pos = end
    # bibtexparser would abort a block at an `@word{` starting a line inside it: any such
    # mark (the gaps between blocks hold none, by construction) and we fall back.
    if len(_BLOCK_START.findall(text)) != sum(
        not isinstance(b, bpm.ImplicitComment) for b in blocks
    ):
        return None
    return blocks


def _special_block(
    text: str, kind: str, at: int, open_at: int, line: int
) -> tuple[bpm.Block, int] | None:
    """An `@comment`, `@preamble` or `@string` block and where it ends, or None."""
    block: bpm.Block
    if kind.startswith("@string"):
        s = _STRING.match(text, open_at + 1)
        if s is None:
            return None
        end = s.end()
        block = bpm.String(start_line=line, key=s.group(1), value=s.group(2), raw=text[at:end])
        return block, end
    free = _FREE_TEXT.match(text, open_at)
    if free is None:
        return None
    end = free.end()
    if kind.startswith("@comment"):
        block = bpm.ExplicitComment(
            start_line=line, comment=free.group(1).strip(), raw=text[at:end]
        )
    else:
        block = bpm.Preamble(start_line=line, value=free.group(1), raw=text[at:end])
    return block, end


def _implicit_comment(comment: str, line: int) -> bpm.ImplicitComment:
    """Text between blocks (not blank), trimmed as bibtexparser trims it; `line`: its start."""
    leading = 0
    i = 0
    for char in comment:
        if char == "\n":
            leading += 1
        elif not char.isspace():
            break
        i += 1
    comment = comment[i:].rstrip()
    return bpm.ImplicitComment(start_line=line + leading, raw=comment, comment=comment)

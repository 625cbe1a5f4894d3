"""LaTeX-safe field values for exported bibliographies.

Values in `bib/` are LaTeX source already; here they are made safe for any engine:
non-ASCII characters become braced canonical LaTeX (`ę` -> `{\\k{e}}`, the BibTeX FAQ form that
BibTeX's `purify$` and sorting understand), bare `& % #` are escaped (remote data sometimes
has them and they are LaTeX errors), and title words that a style's lowercasing would wreck
(`BERT`, `ImageNet`, `GloVe`, `Euclidean`) get protective braces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from pylatexenc.latexencode import UnicodeToLatexEncoder

# Typographic characters whose LaTeX ligature forms every engine and font encoding knows.
_LIGATURES = {
    "\u2013": "--",
    "\u2014": "---",
    "\u201c": "``",
    "\u201d": "''",
    "\u2018": "`",
    "\u2019": "'",
    "\u00a0": "~",
}
_encoder = UnicodeToLatexEncoder(
    non_ascii_only=True, replacement_latex_protection="braces-all", unknown_char_policy="keep"
)
_BARE_SPECIAL = re.compile(r"(?<!\\)([&%#])")

# Proper nouns common in the group's titles; sentence-casing styles must keep them.
PROPER_NOUNS = frozenset(
    """Adam Banach Bayes Bayesian Boltzmann Cauchy Chebyshev Euclidean Euler Fourier Gauss
    Gaussian Hamiltonian Hessian Hilbert Hopfield Jacobian Kolmogorov Kullback Lagrangian
    Langevin Laplace Laplacian Leibler Lipschitz Lyapunov Markov Markovian Monte Carlo
    Nesterov Newton Pareto Riemann Riemannian Sobolev Stiefel Turing Wasserstein Weierstrass
    Stone English Python""".split()
)


def _trie_alternation(words: frozenset[str]) -> str:
    """`A(?:dam)|B(?:anach|ayes)…`: one first-letter test per word start instead of many."""
    by_first: dict[str, list[str]] = {}
    for word in sorted(words):
        by_first.setdefault(word[0], []).append(re.escape(word[1:]))
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in by_first.items())


# A letters-and-digits run that `needs_protection`, as one regex (no backtracking blow-up):
# a capital after the first character, a one-letter capital word other than "A", or a
# proper noun. `_RUN_START`/`_RUN_END` stand for word boundaries where `_` is not a letter.
_RUN_START = r"(?<![^\W_])"
_RUN_END = r"(?![^\W_])"
_PROTECTED_PART = re.compile(
    _RUN_START
    + r"(?:[^\W_][^\W_A-Z]*[A-Z][^\W_]*"
    + r"|(?!A"
    + _RUN_END
    + r")[A-Z]"
    + _RUN_END
    + "|(?:"
    + _trie_alternation(PROPER_NOUNS)
    + ")"
    + _RUN_END
    + ")"
)
# Braced groups (three levels deep), math and commands, kept as written; or a part to brace.
_KEPT_OR_PROTECTED = re.compile(
    r"(\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}|\$[^$]*\$|\\[A-Za-z]+|\\.)|"
    + _PROTECTED_PART.pattern
)
_WORD_EDGE = re.compile(r"^([^\w]*)(.*?)([^\w]*)$", re.DOTALL)


def to_latex(value: str) -> str:
    """`value` with non-ASCII characters written as braced LaTeX; ASCII input is returned as is."""
    if value.isascii():
        return value
    return _NON_ASCII.sub(_latex_of_match, unicodedata.normalize("NFC", value))


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _latex_of_match(match: re.Match[str]) -> str:
    return _char_to_latex(match.group())


@lru_cache(maxsize=4096)
def _char_to_latex(char: str) -> str:
    return _LIGATURES.get(char) or str(_encoder.unicode_to_latex(char))


def escape_specials(value: str) -> str:
    """Escape bare `&`, `%` and `#` (already escaped ones are left alone), and `_` outside
    math and URLs: each is a LaTeX error where it stands, so escaping only prints it."""
    if "_" in value:
        value = _escape_underscores(value)
    if "&" not in value and "%" not in value and "#" not in value:
        return value
    return _BARE_SPECIAL.sub(r"\\\1", value)


# Math, and the arguments of commands that take `_` verbatim, where `_` stays as written.
_UNDERSCORE_KEPT = re.compile(
    r"(\$[^$]*\$|\\(?:url|href|path|nolinkurl|verb|doi|eprint)\s*\{[^{}]*\}|\\[A-Za-z]+)"
)
_BARE_UNDERSCORE = re.compile(r"(?<!\\)_")


def _escape_underscores(value: str) -> str:
    pieces = _UNDERSCORE_KEPT.split(value)
    pieces[::2] = [_BARE_UNDERSCORE.sub(r"\\_", piece) for piece in pieces[::2]]
    return "".join(pieces)


def safe_text(value: str) -> str:
    """A text field made safe for BibTeX, biber and any LaTeX engine."""
    return to_latex(escape_specials(value))


def needs_protection(part: str) -> bool:
    """True for words a lowercasing style must not touch: acronyms, CamelCase, proper nouns.

    `BERT`, `ImageNet`, `GloVe`, `3D`, `Q` (of Q-learning), `I` (Part I) and `Euclidean`
    qualify; `Attention`, `A`, `Multi` and `all` do not. Words are judged by their
    letters-and-digits runs, so `Non-Euclidean` protects only `Euclidean`.
    """
    rest = part[1:]
    if rest != rest.lower():
        return True
    if len(part) == 1:
        return part.isupper() and part != "A"
    return part in PROPER_NOUNS


def protect_title(title: str) -> str:
    """Brace the parts of words in `title` that `needs_protection`: `{BERT}`,
    `Non-{Euclidean}`, `{GPT}-2`. Braced groups, math and commands are left as written, so
    nothing is double-braced; a title braced as a whole is returned as is."""
    if not _NOT_PLAIN.search(title):
        # No groups or math: word by word (a space ends every part, so this is the same as
        # one pass over the title), and words repeat across titles.
        return " ".join([_protect_word(word) for word in title.split(" ")])
    if title.startswith("{") and title.endswith("}") and _one_group(title):
        return title
    if not _ESCAPED_DELIMITER.search(title):
        pieces = title.split(" ")
        protected = [p for p in map(_protect_piece, pieces) if p is not None]
        if len(protected) == len(pieces):
            return " ".join(protected)
    return _KEPT_OR_PROTECTED.sub(_keep_or_brace, title)


# `\{`, `\}`, `\$` and `\ ` can make groups, formulas or commands run past a space.
_ESCAPED_DELIMITER = re.compile(r"\\[{}$ ]")


@lru_cache(maxsize=65536)
def _protect_piece(piece: str) -> str | None:
    """A space-delimited piece of a title protected on its own, or None when a group or
    formula in it may go on past the space (then only the whole title can be scanned).

    Pieces are self-contained when their braces nest and close and their `$` pair up
    outside braces: every group, formula and command then ends inside the piece, so the
    one-pass scan over the whole title finds the same matches in it."""
    depth = 0
    dollars = 0
    for ch in piece:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return None
        elif ch == "$":
            if depth:
                return None
            dollars += 1
    if depth or dollars % 2:
        return None
    return _KEPT_OR_PROTECTED.sub(_keep_or_brace, piece)


@lru_cache(maxsize=65536)
def _protect_word(word: str) -> str:
    return _PROTECTED_PART.sub(r"{\g<0>}", word)


def _keep_or_brace(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) else "{" + match.group(0) + "}"


def sentence_case(title: str) -> str:
    """`title` (LaTeX) in sentence case, as CSL styles expect: words lowercased except the
    first, the first after `:`/`?`/`!`/`.`, braced groups and words that `needs_protection`.
    `BERT: Pre-Training of {Deep} Networks` -> `BERT: Pre-training of {Deep} networks`."""
    if title.startswith("{") and title.endswith("}") and _one_group(title):
        return title
    out: list[str] = []
    keep_next = True
    for chunk, is_word in _top_level_words(title):
        if chunk.isspace():
            out.append(chunk)
            continue
        if is_word:
            chunk = _map_parts(chunk, _lower_if_free, keep_first=keep_next)
        elif not keep_next and "\\" not in chunk and "$" not in chunk:
            chunk = _lower_outside_braces(chunk)
        out.append(chunk)
        keep_next = chunk.rstrip("}'")[-1:] in (":", "?", "!", ".")
    return "".join(out)


def _lower_outside_braces(token: str) -> str:
    """`Non-{Euclidean}` -> `non-{Euclidean}`: braced groups kept, the rest sentence-cased."""
    out: list[str] = []
    depth = 0
    plain = ""
    for ch in token:
        if depth == 0 and ch != "{":
            plain += ch
            continue
        if plain:
            out.append(_map_parts(plain, _lower_if_free))
            plain = ""
        depth += ch == "{"
        depth -= ch == "}"
        out.append(ch)
    if plain:
        out.append(_map_parts(plain, _lower_if_free))
    return "".join(out)


def _lower_if_free(part: str) -> str:
    return part if needs_protection(part) else part.lower()


_PART_SPLIT = re.compile(r"([-/]+)")


def _map_parts(word: str, change: Callable[[str], str], *, keep_first: bool = False) -> str:
    """Apply `change` to the letters-and-digits parts of a word (not to the first one with
    `keep_first`), keeping the punctuation around it and the hyphens/slashes between parts."""
    if word == word.lower():
        return word  # no capitals: nothing to protect or lowercase (most words)
    match = _WORD_EDGE.match(word)
    if not match:
        return word
    lead, core, trail = match.groups()
    if not core:
        return word
    pieces = _PART_SPLIT.split(core)
    changed = [
        p if i % 2 or not p or (keep_first and i == 0) else change(p) for i, p in enumerate(pieces)
    ]
    return lead + "".join(changed) + trail


_WHITESPACE = re.compile(r"(\s+)")
_NOT_PLAIN = re.compile(r"[{}\\$]")


def _top_level_words(text: str) -> list[tuple[str, bool]]:
    """Split into (chunk, is_plain_word): plain words are top-level, outside math, and hold
    no braces or commands; everything else (spaces, groups, math) is passed through."""
    if "\\{" not in text and "\\}" not in text and "\\$" not in text:
        # Fast path: when no group or formula spans a space, splitting on spaces is exact.
        pieces = _WHITESPACE.split(text)
        words = pieces[::2]
        if all(w.count("{") == w.count("}") and w.count("$") % 2 == 0 for w in words):
            return [(p, not i % 2 and not _NOT_PLAIN.search(p)) for i, p in enumerate(pieces) if p]
    chunks: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            chunks.append((text[i:j], False))
            i = j
            continue
        j, plain = _scan_token(text, i)
        chunks.append((text[i:j], plain))
        i = j
    return chunks


def _scan_token(text: str, start: int) -> tuple[int, bool]:
    """End of the whitespace-delimited token at `start` (spaces inside braces or math belong
    to it) and whether it is a plain word."""
    depth = 0
    in_math = False
    plain = True
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            plain = False
            i += 2
            continue
        if ch == "{":
            depth += 1
            plain = False
        elif ch == "}":
            depth -= 1
        elif ch == "$":
            in_math = not in_math
            plain = False
        elif ch.isspace() and depth <= 0 and not in_math:
            break
        i += 1
    return min(i, len(text)), plain


def _one_group(text: str) -> bool:
    """True when `text` is a single braced group `{…}` (the whole title protected)."""
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and i < len(text) - 1:
            return False
        i += 1
    return True


# ---- LaTeX to Unicode, fast path ----------------------------------------------------------

_ACCENT_MARKS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}  # fmt: skip
_LETTER = r"(\\[ij](?![A-Za-z])|[A-Za-z])"
_ACCENT = re.compile(
    r"\\([`'^\"~=.])\s*(?:\{\s*" + _LETTER + r"\s*\}|" + _LETTER + ")"
    r"|\\([uvHckrdb])(?:\s*\{\s*" + _LETTER + r"\s*\}|\s+" + _LETTER + ")"
)
_SPECIAL_LETTERS = {
    "ss": "ß", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ae": "æ", "AE": "Æ", "oe": "œ",
    "OE": "Œ", "aa": "å", "AA": "Å", "i": "ı", "j": "ȷ",
}  # fmt: skip
_SPECIAL = re.compile(r"\\(ss|o|O|l|L|ae|AE|oe|OE|aa|AA|i|j)(?![A-Za-z])\s*")
_ESCAPED = re.compile(r"\\([&%#_$])")
_DASHES_QUOTES = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"))


def _accented(match: re.Match[str]) -> str:
    macro = match.group(1) or match.group(4)
    letter = next(g for g in match.groups()[1:3] + match.groups()[4:] if g)
    base = _SPECIAL_LETTERS[letter[1]] if letter.startswith("\\") else letter
    return base + _ACCENT_MARKS[macro]


_MATH = re.compile(r"(\$[^$]*\$)")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def to_unicode(value: str, math: Callable[[str], str] | None = None) -> str | None:
    """Unicode text for the common LaTeX in bibliographies (accents, special letters,
    escaped specials, dashes, quotes, braces); `$…$` segments go to `math` (a full LaTeX
    decoder, called per formula so repeated formulas are cheap). None when anything else is
    left (other commands), so the caller falls back to a full LaTeX parser."""
    if "$" not in value:
        text = _plain_to_unicode(value)
    elif math is None:
        return None
    else:
        pieces = []
        for i, piece in enumerate(_MATH.split(value)):
            decoded = math(piece) if i % 2 else _plain_to_unicode(piece)
            if decoded is None:
                return None
            pieces.append(decoded)
        text = "".join(pieces)
    return None if text is None else unicodedata.normalize("NFC", text).strip()


def _plain_to_unicode(value: str) -> str | None:
    text = _ACCENT.sub(_accented, value) if "\\" in value else value
    if "\\" in text:
        text = _SPECIAL.sub(lambda m: _SPECIAL_LETTERS[m.group(1)], text)
        text = _ESCAPED.sub(r"\1", text)
    if "\\" in text or "$" in text:
        return None
    for latex, char in _DASHES_QUOTES:
        text = text.replace(latex, char)
    text = text.replace("{", "").replace("}", "").replace("~", "\u00a0")
    return _SPACES.sub(" ", text)

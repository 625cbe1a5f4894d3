"""The package's one LaTeX <-> Unicode codec: every module that reads or writes LaTeX uses it.

A neutral low layer, like `errors`: it imports nothing of dlg_bib, so the core, the
renderers, the exporters and the sources (which decode dblp's BibTeX) can all use it.

LaTeX -> Unicode (`to_text`): pylatexenc's `LatexNodes2Text`, configured once, so that an
unknown macro keeps its argument's text (`\\texttt{Liquid}`, `\\mbox{and}`, `\\foo{x}` ->
"Liquid", "and", "x"; pylatexenc itself drops the macros it knows the arguments of but has
no text for). pylatexenc costs about 1 ms a value, so two cheaper paths run first: values
without LaTeX (most of them) are only tidied, and the LaTeX bibliographies actually contain
(accents, special letters, escapes, braces, dashes, quotes, simple math, style macros) is
decoded by a few regular expressions that give pylatexenc's answer or decline (tests/
test_latex.py checks both agree on every title and name of the fixtures and bib/). Each
distinct LaTeX value is decoded once per process: lint, the renderers and the exporters
share the cache.

Unicode -> LaTeX (`to_latex`, `safe_text`): non-ASCII characters become braced canonical
LaTeX (`ę` -> `{\\k{e}}`, the BibTeX FAQ form that BibTeX's `purify$` and sorting
understand), typographic dashes and quotes their ligatures; bare `& % # _` are escaped.

Title protection (`protect_title`), the one rule of every writer that protects titles
(`export` to BibTeX and biblatex, `enrich`/`add` for remote titles): BibTeX styles lowercase
a title except inside braces, so a word is braced when lowercasing would wreck it, and
nothing else is touched. What the author braced stays exactly as written (never
double-braced); an acronym or CamelCase word (a capital after its first letter: `BERT`,
`ImageNet`, `GloVe`, `3D`), a one-letter capital word other than "A" (`Q`-learning, Part
`I`) and a proper noun of `PROPER_NOUNS` (`Euclidean`, `Bayesian`) are braced, judged by
letters-and-digits runs (`Non-{Euclidean}`, `{GPT}-2`); math and commands are left alone.
An ordinary capitalised word is not braced: sentence-casing styles are meant to lowercase it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylatexenc.latex2text import LatexNodes2Text
    from pylatexenc.latexencode import UnicodeToLatexEncoder


# ---- LaTeX -> Unicode -------------------------------------------------------------------------

# Values with none of these (nor ``, '') decode to themselves, whitespace collapsed, NFC,
# dashes made typographic: most values. `%` is here too: it starts a comment, which
# pylatexenc drops. (A character class and two substring tests: 3x faster than one regex.)
_LATEX_CHARS = re.compile(r"[\\{}$~%]")

# TeX primitives that read or write files or redefine things: shown as written, never
# interpreted or silently dropped (pylatexenc drops `\input{…}` without a trace).
_UNSAFE_TEX = re.compile(
    r"\\(?:input|include|includeonly|openin|openout|read|write|immediate|catcode|def|"
    r"edef|gdef|xdef|let|csname|usepackage|special)(?![A-Za-z])"
)


def to_text(value: str, *, keep_math: bool = False) -> str:
    """Unicode text of a LaTeX field value: `L{\\'a}szl{\\'o}` -> `László`, `--` -> `–`,
    `\\texttt{x}` -> `x`; whitespace collapsed, NFC.

    Math becomes Unicode text (`$\\ell_1$` -> `ℓ_1`), or with `keep_math` stays as written
    (`$\\ell_1$`, which GitHub renders). TeX that reads or writes files (`\\input{…}`) is kept
    as written, never interpreted or dropped.
    """
    if not value:
        return ""
    if _LATEX_CHARS.search(value) is None and "``" not in value and "''" not in value:
        if "--" in value:  # page ranges, dashes in titles: what the LaTeX path would do
            value = value.replace("---", "—").replace("--", "–")
        return " ".join(unicodedata.normalize("NFC", value).split())
    return _decode_latex(value, keep_math)


@lru_cache(maxsize=1 << 16)  # the one cache of LaTeX decoding: venues, names, titles recur
def _decode_latex(value: str, keep_math: bool) -> str:
    if _UNSAFE_TEX.search(value):
        return " ".join(value.split())
    if not keep_math or "$" not in value:
        fast = fast_to_text(value)
        if fast is not None:
            return fast
    return parsed_to_text(value, keep_math=keep_math)


@lru_cache(maxsize=2)
def _converter(keep_math: bool) -> LatexNodes2Text:
    # Imported on first use: most runs decode every value without pylatexenc, and importing
    # it costs more than many of those runs spend decoding.
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    context = get_default_latex_context_db()
    # An unknown macro (or one pylatexenc parses but has no text for: \\texttt, \\mbox,
    # \\textsf, \\textup) prints its arguments, as a reader of the PDF would see them.
    context.set_unknown_macro_spec(MacroTextSpec("", discard=False))
    math_mode = "verbatim" if keep_math else "text"
    return LatexNodes2Text(latex_context=context, math_mode=math_mode, strict_latex_spaces=True)


def parsed_to_text(value: str, *, keep_math: bool = False) -> str:
    """`to_text` by pylatexenc alone (uncached; `to_text` is the one to call)."""
    try:
        text = _converter(keep_math).latex_to_text(_prepare(value))
    except Exception:  # pylatexenc raises bare Exceptions on odd input; never fail a render
        text = value.replace("{", "").replace("}", "")
    return " ".join(unicodedata.normalize("NFC", text).split())


# Macros pylatexenc does not know (it raises on `\href`, prints `\LaTeX` as nothing):
# rewritten to what a reader should see before decoding.
_HREF = re.compile(r"\\href\s*\{([^{}]*)\}\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_LOGOS = re.compile(r"\\(LaTeX|TeX|BibTeX)\b(?:\{\})?")


def _prepare(value: str) -> str:
    if "\\" not in value:
        return value
    value = _HREF.sub(lambda m: m.group(2), value)
    return _LOGOS.sub(lambda m: m.group(1), value)


# The fast path: what bibliographies actually contain, in regular expressions.
# Anything we do not handle: braces or backslashes escaped, comments, URLs, line breaks.
# (Two patterns: one that starts with a backslash is found much faster than one alternation.)
_UNSUPPORTED = re.compile(r"\\(?:[{}\\]|(?:url|href|verb|cite|ref)\b|[^A-Za-z&%$#_'`^\"~=.])")
_COMMENT = re.compile(r"(?<!\\)%")

_LETTERS = {
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "i": "ı",
    "j": "ȷ",
    "l": "ł",
    "L": "Ł",
    "o": "ø",
    "O": "Ø",
}
_LETTER = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|i|j|l|L|o|O)(?![A-Za-z])(?:\{\}|[ \t]*)")

_SYMBOL_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
}
_LETTER_ACCENTS = {
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_BASE = r"[A-Za-zıȷ]"
_SYMBOL_ACCENT = re.compile(rf"\\([`'^\"~=.])\s*(?:\{{({_BASE})\}}|({_BASE}))")
_LETTER_ACCENT = re.compile(rf"\\([uvHckrdb])(?:\s*\{{({_BASE})\}}|\s+({_BASE}))")
_STYLE = re.compile(
    r"\\(?:emph|textit|textbf|textsc|textrm|texttt|textsf|textup|textnormal|"
    r"mathrm|mathit|mathbf|mathsf|mathtt|text|mbox)\s*(?=\{)"
)
_ESCAPE = re.compile(r"\\([&%#_])")
_DOLLAR = "\x00"
_MATH = re.compile(r"\$([^$]*)\$")
_MACRO = re.compile(r"\\([A-Za-z]+)")
_SYMBOLS = {
    "ell": "ℓ",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "times": "×",
    "cdot": "⋅",
    "pm": "±",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "approx": "≈",
    "to": "→",
    "rightarrow": "→",
    "in": "∈",
    "ldots": "…",
    "dots": "…",
    "log": "log",
    "exp": "exp",
    "sin": "sin",
    "cos": "cos",
    "min": "min",
    "max": "max",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ϵ",
    "varepsilon": "ε",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "pi": "π",
    "phi": "ϕ",
    "varphi": "φ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Omega": "Ω",
}


def _accent(table: dict[str, str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        # An accent on a dotless i or j (`\\'{\\i}`) is an accent on i or j.
        base = (match.group(2) or match.group(3)).replace("ı", "i").replace("ȷ", "j")
        return base + table[match.group(1)]

    return replace


def _first_group(match: re.Match[str]) -> str:
    return match.group(1)


def _letter(match: re.Match[str]) -> str:
    return _LETTERS[match.group(1)]


_symbol_accent = _accent(_SYMBOL_ACCENTS)
_letter_accent = _accent(_LETTER_ACCENTS)


def _symbol(match: re.Match[str]) -> str:
    name = match.group(1)
    if name not in _SYMBOLS:
        raise KeyError(name)
    return _SYMBOLS[name]


def fast_to_text(value: str) -> str | None:
    """`to_text` of `value` by regular expressions, or None when it holds LaTeX this fast
    path does not know (then pylatexenc decodes it). Math becomes text."""
    if _UNSUPPORTED.search(value) or ("%" in value and _COMMENT.search(value)):
        return None
    text = _LETTER.sub(_letter, value)
    text = _SYMBOL_ACCENT.sub(_symbol_accent, text)
    text = _LETTER_ACCENT.sub(_letter_accent, text)
    escaped_dollars = "$" in text
    if escaped_dollars:
        if _DOLLAR in text:
            return None  # a NUL byte of its own would come back as `$`
        text = _MATH.sub(_first_group, text.replace("\\$", _DOLLAR))
        if "$" in text:
            return None
    text = _ESCAPE.sub(_first_group, _STYLE.sub("", text))
    try:
        text = _MACRO.sub(_symbol, text)
    except KeyError:
        return None
    if "\\" in text:
        return None
    text = text.replace("{", "").replace("}", "")
    if escaped_dollars:
        text = text.replace(_DOLLAR, "$")
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = text.replace("~", " ")
    return " ".join(unicodedata.normalize("NFC", text).split())


_FOLDED_LETTERS = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "đ": "d"}


class _FoldTable(dict[int, str | None]):
    """`str.translate` table: combining marks dropped, letters NFKD keeps whole spelled out.
    Filled on first sight of each character, so translating runs in C (a Python loop over
    every character cost a tenth of a 10,000-entry README, which folds every title)."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        folded = None if unicodedata.combining(char) else _FOLDED_LETTERS.get(char, char)
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def ascii_fold(text: str) -> str:
    """`Pękalska` -> `Pekalska`: for citation keys, which must be ASCII for BibTeX."""
    return unicodedata.normalize("NFKD", text).translate(_FOLD_TABLE)


# ---- Unicode -> LaTeX ---------------------------------------------------------------------------

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
    return _LIGATURES.get(char) or str(_encoder().unicode_to_latex(char))


@lru_cache(maxsize=1)
def _encoder() -> UnicodeToLatexEncoder:
    # Imported on first use: most values are ASCII and never reach the encoder.
    from pylatexenc.latexencode import UnicodeToLatexEncoder

    return UnicodeToLatexEncoder(
        non_ascii_only=True, replacement_latex_protection="braces-all", unknown_char_policy="keep"
    )


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

"""Which fields can reach the .bbl that LaTeX reads.

biber writes only the fields of biblatex's data model (blx-dm.def) and drops the rest
without a word; a BibTeX style reads only the fields its `ENTRY` list declares. A field
neither knows (`adsurl` from NASA ADS, `biburl` from dblp, `bdsk-url-1` from BibDesk,
JabRef's `owner`) never reaches the .bbl, so what LaTeX would choke on there (a bare `%`)
is harmless, and its value is better left exactly as written.
"""

from __future__ import annotations

# biblatex 3.x's default data model (blx-dm.def): fields, lists and names; the date parts
# biber derives; the BibTeX names biber maps onto it (`journal` -> `journaltitle`).
BIBLATEX_FIELDS = frozenset(
    """
    abstract addendum afterword annotation annotator author authortype bookauthor
    bookpagination booksubtitle booktitle booktitleaddon chapter commentator crossref date
    day doi edition editor editora editoratype editorb editorbtype editorc editorctype
    editortype eid endday endmonth endyear entryset entrysubtype eprint eprintclass
    eprinttype eventdate eventtitle eventtitleaddon execute file foreword gender holder
    howpublished ids indexsorttitle indextitle institution introduction isan isbn ismn isrn
    issn issue issuesubtitle issuetitle issuetitleaddon iswc journalsubtitle journaltitle
    journaltitleaddon keywords label langid langidopts language library lista listb listc
    listd liste listf location mainsubtitle maintitle maintitleaddon month namea nameaddon
    nameatype nameb namebtype namec namectype note number options organization origdate
    origlanguage origlocation origpublisher origtitle pages pagetotal pagination part
    presort publisher pubstate related relatedoptions relatedstring relatedtype
    reprinttitle series shortauthor shorteditor shorthand shorthandintro shortjournal
    shortseries shorttitle sortkey sortname sortshorthand sorttitle sortyear subtitle
    title titleaddon translator type url urldate usera userb userc userd usere userf verba
    verbb verbc venue version volume volumes xdata xref year
    address annote archiveprefix hyphenation journal key pdf primaryclass school
    """.split()
)
# BibTeX's standard fields and the ones natbib's plainnat (and most styles after it) add.
BIBTEX_FIELDS = frozenset(
    """
    address annote author booktitle chapter crossref doi edition editor eid howpublished
    institution isbn issn journal key month note number organization pages publisher school
    series title type url volume year
    """.split()
)

# Fields holding entry keys (biblatex's `entrykey` datatype): a key with `&` (NASA ADS's
# `2019A&A...623A..39H`) is read as a key, never typeset as text.
KEY_FIELDS = frozenset({"crossref", "xref", "xdata", "ids", "entryset", "related"})

# Fields the standard styles typeset (BibTeX's plain family and natbib's plainnat; biblatex's
# standard styles): text there is set by LaTeX, where a bare `&` is an alignment tab. The
# others reach the .bbl only to be stored (`abstract`, `keywords`, `sorttitle`).
PRINTED_FIELDS = frozenset(
    """
    address addendum afterword annotator author bookauthor booksubtitle booktitle
    booktitleaddon chapter commentator edition editor editora editorb editorc eid
    eventtitle eventtitleaddon foreword holder howpublished institution introduction
    issuesubtitle issuetitle journal journalsubtitle journaltitle journaltitleaddon
    location mainsubtitle maintitle maintitleaddon nameaddon note number organization
    origlocation origpublisher origtitle pages part publisher reprinttitle school series
    shortauthor shorteditor shorthand shortjournal shortseries shorttitle subtitle title
    titleaddon translator type venue version volume
    """.split()
)


def reaches_bbl(name: str) -> bool:
    """Whether biber or a BibTeX style may write field `name` (any case) into the .bbl."""
    low = name.lower()
    return low in BIBLATEX_FIELDS or low in BIBTEX_FIELDS

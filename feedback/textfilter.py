"""What a comment says once the disguises are taken off: staff words, links and personal data.

Pure functions, no database and no models, so moderation can call them for every comment and the
evasion corpus in the tests runs in milliseconds. Callers pass the staff word list in and turn the
codes returned here into messages.

The pipeline, one step per evasion residents and spammers actually use:

1. ``normalise`` folds what *looks* the same into one spelling (full width, case, traditional
   characters, invisible characters, look-alike punctuation, homoglyphs inside a Latin word).
2. ``compact`` then keeps only letters and digits, so whatever was pushed *between* the characters
   of a word (spaces, dots, dashes, emoji, line breaks) no longer separates them. Staff words are
   matched there.
3. Links and personal data are matched on the normalised text (they need their separators), with
   patterns that also accept the separators people use to hide them (``x。com``, ``x(dot)com``,
   ``138 1234 5678``) and reject what ordinary comments contain (``44.9%``, ``1.5万``, ``2023年``).

Every step keeps a map from the characters it produces back to the original text, so the masking
of personal data replaces exactly what the resident wrote and a caller can highlight a match.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache

import opencc

# Building the converter loads its dictionaries (about 20 ms), so it is built once per process;
# converting a comment then takes microseconds.
_T2S = opencc.OpenCC("t2s")

# Characters that draw nothing but are not category Cf (which is removed wholesale): Hangul
# fillers and the blank Braille pattern are letters/symbols that render empty, the combining
# grapheme joiner and variation selectors only choose a glyph, the keycap mark only frames one.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u3164\uffa0\u2800\u20e3"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)

# Look-alike punctuation NFKC leaves alone. Dots and dashes separate the parts of links and phone
# numbers; the at sign and slash belong to addresses. The ideographic full stop 。 is deliberately
# NOT here: it ends every Chinese sentence, so only the link matcher reads it as a dot, and only
# between Latin labels.
_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u00b7\u2022\u2027\u2219\u22c5\u30fb\ua4f8\u2e31\u2e33", "."),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58", "-"),
        **dict.fromkeys("\u2236\ua789", ":"),
        **dict.fromkeys("\u2215\u2044\u29f8", "/"),
    }
)

# Cyrillic and Greek letters drawn like Latin ones (after casefolding). Applied only inside a run
# of letters that also holds Latin letters: a mixed-script word is the mark of a spoof (Unicode
# TS #39), while a genuinely Russian or Greek word is left as written.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "г": "r", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k",
        "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
        "ѕ": "s", "ь": "b", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
        # Greek
        "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    }
)  # fmt: skip
_CONFUSABLE_CHARS = frozenset(chr(c) for c in _CONFUSABLES)
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[a-z]")


# --- Normalisation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Folded:
    """A normalised or compacted text and, for each of its characters, the index in the original
    text of the character it came from (for masking and highlighting)."""

    text: str
    origin: tuple[int, ...]

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        """The original slice that produced ``text[start:end]`` (``end > start``)."""
        return self.origin[start], self.origin[end - 1] + 1


def _clusters(text: str) -> Iterable[tuple[int, str]]:
    """A base character with the combining marks that follow it, with its index: NFKC composes
    within such a cluster (``e`` + U+0301 → ``é``), so each is normalised as a whole."""
    start, cluster = 0, ""
    for index, char in enumerate(text):
        if cluster and unicodedata.category(char).startswith("M"):
            cluster += char
            continue
        if cluster:
            yield start, cluster
        start, cluster = index, char
    if cluster:
        yield start, cluster


@lru_cache(maxsize=8192)
def _fold_cluster(cluster: str) -> str:
    kept = "".join(c for c in cluster if c not in _INVISIBLE and unicodedata.category(c) != "Cf")
    # NFKC, casefold, NFKC again: casefolding can leave a string that is no longer normalised
    # (Unicode's "NFKC_Casefold" recipe).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", kept).casefold())
    # Any script's decimal digits are digits: ١٣٨ is a phone number as much as 138.
    folded = "".join(str(unicodedata.digit(c)) if unicodedata.category(c) == "Nd" else c for c in folded)
    return folded.translate(_PUNCTUATION)


def _simplified_char(char: str) -> str:
    simplified = _T2S.convert(char)
    return simplified if len(simplified) == 1 else char


def _unspoof(match: re.Match[str]) -> str:
    run = match.group()
    if _LATIN.search(run) and not _CONFUSABLE_CHARS.isdisjoint(run):
        return run.translate(_CONFUSABLES)
    return run


def normalised(text: str) -> Folded:
    """``normalise`` with the map back to the original text (see there for the steps)."""
    chars: list[str] = []
    origin: list[int] = []
    for index, cluster in _clusters(text):
        for char in _fold_cluster(cluster):
            chars.append(char)
            origin.append(index)
    folded = "".join(chars)
    simplified = _T2S.convert(folded)
    if len(simplified) != len(folded):
        # A phrase rule changed the length: convert character by character to keep the map
        # (t2s is one character for one in practice; this is a guard, not a path we expect).
        simplified = "".join(map(_simplified_char, folded))
    return Folded(_LETTER_RUN.sub(_unspoof, simplified), tuple(origin))


def normalise(text: str) -> str:
    """One spelling for what reads the same. In order, and why:

    - **Invisible characters removed** (Unicode category Cf: zero-width space/joiners U+200B–U+200D,
      word joiner U+2060, BOM U+FEFF, soft hyphen U+00AD, bidi controls, tag characters; plus
      variation selectors, the combining grapheme joiner, Hangul fillers, blank Braille): they split
      a word for a substring test and show nothing on screen — ``法\\u200b轮\\u200b功``.
    - **NFKC** folds compatibility forms: full-width Latin and digits (``ｆｕｃｋ``, ``１３８``,
      ``＠``, ``．``), circled and styled letters (``ⓕ``, ``𝐟``), Kangxi radicals and CJK
      compatibility ideographs to the ordinary character.
    - **casefold** (then NFKC again, as Unicode's NFKC_Casefold does): ``FUCK`` = ``fuck``.
    - **Decimal digits of every script to ASCII** (``١٣٨`` → ``138``), for phone and ID numbers.
    - **Look-alike punctuation** mapped to one character: middle dots and bullets → ``.``, the
      dash family and minus → ``-``, ratio colon → ``:``, division/fraction slash → ``/``.
      ``。`` is kept: it ends Chinese sentences; the link matcher reads it as a dot only between
      Latin labels.
    - **Traditional → simplified Chinese** with OpenCC's ``t2s`` (phrase-aware, so ``乾隆`` stays
      and ``乾淨`` becomes ``干净``): ``法輪功`` = ``法轮功``, and a staff word written in either
      form matches both.
    - **Homoglyphs inside a Latin word**: Cyrillic/Greek letters drawn like Latin ones become Latin
      when the word also contains Latin letters (``fuсk`` with a Cyrillic ``с``). Words wholly in
      another script are left alone.

    Whitespace and ordinary punctuation stay; ``compact`` removes them for word matching.
    """
    return normalised(text).text


def _keeps(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def compacted(text: str) -> Folded:
    """``compact`` with the map back to the original text."""
    folded = normalised(text)
    kept = [(c, i) for c, i in zip(folded.text, folded.origin, strict=True) if _keeps(c)]
    letters = _LETTER_RUN.sub(_unspoof, "".join(c for c, _i in kept))
    return Folded(letters, tuple(i for _c, i in kept))


def compact(text: str) -> str:
    """The normalised text with only its letters and digits (Unicode categories L* and N*).

    Everything else goes: whitespace and line breaks (Z*, Cc), punctuation (P*), symbols and emoji
    (S*), and leftover combining marks (M*: after NFKC has composed accented letters, the marks
    still standing are decorative — strike-through, underline, "zalgo"). So ``法 轮 功``,
    ``法.轮.功``, ``法-轮-功``, ``法🔥轮🔥功``, ``f u c k`` and ``f.u.c.k`` all read as one word.
    Homoglyphs are unspoofed again here, since ``f u с k`` only becomes a mixed-script word
    once its spaces are gone.
    """
    return compacted(text).text


# --- Staff words --------------------------------------------------------------------------

# A staff word this short, in Latin letters/digits, must not be glued to other Latin letters in
# the compacted text: ``sb`` stands for an insult, but ``usb`` or ``is btw`` (compacted ``isbtw``)
# do not contain it. Longer words keep plain substring matching (``fuck`` in ``fucking``).
_SHORT_LATIN_WORD = 3


@lru_cache(maxsize=16384)
def _compact_word(word: str) -> str:
    return compact(word)


def _glued(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _occurs(needle: str, haystack: str) -> bool:
    """Whether a short Latin ``needle`` occurs in ``haystack`` not glued to other Latin letters."""
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        glued_before = start > 0 and _glued(haystack[start - 1])
        glued_after = end < len(haystack) and _glued(haystack[end])
        if not (glued_before or glued_after):
            return True
        start = haystack.find(needle, start + 1)
    return False


def sensitive_words_found(text: str, words: Iterable[str]) -> list[str]:
    """The staff words, as staff wrote them, that occur in ``text`` once both are compacted.

    A word that compacts to nothing (only punctuation or spaces) is ignored. Instead of one
    substring search per word, every window of the text as long as some word is put in a set, so
    each word costs one lookup: 5,000 words against 1,000 characters take a few milliseconds
    (see the timing test). Compacted words are cached, so only the first call with new words pays
    for normalising them.
    """
    haystack = compact(text)
    windows: dict[int, set[str]] = {}
    found = []
    for word in words:
        needle = _compact_word(word)
        size = len(needle)
        if not size:
            continue
        if size <= _SHORT_LATIN_WORD and needle.isascii():
            hit = _occurs(needle, haystack)
        else:
            if size not in windows:
                windows[size] = {haystack[i : i + size] for i in range(len(haystack) - size + 1)}
            hit = needle in windows[size]
        if hit:
            found.append(word)
    return found


# --- Links --------------------------------------------------------------------------------

# Domain endings accepted after a plain dot. A domain-shaped token with another ending
# (``report.pdf``, ``node.js``, ``mr.wang``, ``co.ltd``, ``iPad.Pro``) is not a link: the whitelist
# misses rare real endings (``x.museum``, ``x.pro``) but spares ordinary writing, and
# ``http(s)://`` and ``www.`` links are caught whatever their ending. Two-letter English words
# (in, is, it, at, to, be, so, do, no) are left out on purpose.
_TLDS = frozenset(
    [
        "com",
        "cn",
        "net",
        "org",
        "gov",
        "edu",
        "mil",
        "int",
        "info",
        "io",
        "top",
        "xyz",
        "cc",
        "me",
        "co",
        "biz",
        "vip",
        "club",
        "site",
        "online",
        "shop",
        "store",
        "app",
        "dev",
        "ai",
        "tv",
        "fm",
        "hk",
        "tw",
        "mo",
        "sg",
        "my",
        "us",
        "uk",
        "jp",
        "kr",
        "ru",
        "de",
        "fr",
        "eu",
        "au",
        "ca",
        "nz",
        "link",
        "live",
        "tech",
        "cloud",
        "icu",
        "work",
        "fun",
        "ink",
        "mobi",
        "asia",
        "win",
        "bid",
        "loan",
        "tk",
        "ml",
        "ga",
        "cf",
        "gq",
        "ws",
        "la",
        "ly",
        "gl",
        "gd",
        "ren",
        "wiki",
        "today",
        "space",
        "website",
        "press",
        "news",
        "red",
        "xin",
    ]
)
# Endings accepted when the dot was disguised (spaces, 。, 点, "(dot)"): the ones spam uses and
# that are not words Chinese comments mix in anyway — ``App。AI`` or ``Me。Too`` must stay prose.
_EVASION_TLDS = frozenset(
    [
        "com",
        "cn",
        "net",
        "org",
        "gov",
        "edu",
        "info",
        "io",
        "top",
        "xyz",
        "cc",
        "vip",
        "club",
        "site",
        "online",
        "shop",
        "biz",
        "tk",
        "ml",
        "ga",
        "cf",
        "gq",
        "ws",
        "icu",
        "win",
        "bid",
        "loan",
        "ren",
        "xin",
    ]
)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_OPEN, _CLOSE = r"[(\[{<【〔「『]", r"[)\]}>】〕」』]"
# A dot, written plainly or disguised: spaced, 。 (NFKC has already turned ｡ and ． into 。 and .),
# 点 (only ever between Latin labels here), (dot)/[dot]/[.] and a spaced-out " dot ".
_SEP = (
    r"(?:[ \t]*[.。][ \t]*|[ \t]*点[ \t]*"
    rf"|[ \t]*{_OPEN}[ \t]*(?:dot|\.|点|。)[ \t]*{_CLOSE}[ \t]*|[ \t]+dot[ \t]+)"
)
_HOST = rf"{_LABEL}(?:{_SEP}{_LABEL})+"
_PATH = r"(?::[0-9]{1,5})?(?:[/?#][!-~]*)?"
_LINK = re.compile(
    rf"https?://[!-~]*"  # an explicit scheme is a link whatever follows
    rf"|(?<![a-z0-9_@.-])www\.{_LABEL}(?:\.{_LABEL})*{_PATH}"  # www.x, plainly written
    rf"|(?<![a-z0-9_@.-])(?P<host>{_HOST})(?![a-z0-9]){_PATH}"
)
_PLAIN_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_SEP_RE = re.compile(_SEP)
# ``w w w . x . c o m``: a run of single letters/digits separated by spaces is read as one word
# before links are matched (the ending whitelist keeps this from flagging prose).
_LETTER_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z0-9][ \t]+)+[a-z0-9](?![a-z0-9])")
_TRAILING = ".,;:!?)]}'\"-"


def _host_is_link(host: str) -> bool:
    tld = _SEP_RE.split(host)[-1]
    if not tld.isalpha():
        return False
    return tld in (_TLDS if _PLAIN_HOST.fullmatch(host) else _EVASION_TLDS)


def _link_host(host: str) -> str | None:
    """The longest leading part of a domain-shaped ``host`` that is a link: in
    ``abc.com。App`` the sentence after the link is glued on by its full stop."""
    parts = re.split(f"({_SEP})", host)  # label, separator, label, …
    for end in range(len(parts), 2, -2):
        candidate = "".join(parts[:end])
        if _host_is_link(candidate):
            return candidate
    return None


def _without_emails(text: str) -> str:
    # An e-mail address is personal data, reported once as such, not also as a link.
    return _EMAIL.sub(lambda m: " " * len(m.group()), text)


def links_found(text: str) -> list[str]:
    """Links in ``text``, each in its plain form (``www . x . com`` → ``www.x.com``), in order.

    Caught: ``http(s)://…`` whatever follows; ``www.``-prefixed names; and domain-shaped tokens
    whose ending is a known domain ending (``example.com``, ``a.b.cn/x``) — also when the dot is
    disguised as spaces, ``。``/``｡``/``．``, ``点``, ``(dot)``, ``[.]`` or `` dot ``, and when the
    letters are spaced out (``w w w . x . c o m``), provided the ending is one spam uses.
    Not caught: decimals and versions (``44.9%``, ``1.5万``, ``3.2.1``: the ending must be
    letters), file names and abbreviations (``report.pdf``, ``Mr.Wang``), Chinese-script domain
    names (``例子.中国``: indistinguishable from prose), and domains with an ending outside the
    whitelist unless written with ``http(s)://`` or ``www.``.
    """
    folded = _without_emails(normalise(text))
    folded = _LETTER_SPACED.sub(lambda m: re.sub(r"[ \t]+", "", m.group()), folded)
    found: list[str] = []
    for match in _LINK.finditer(folded):
        written = match.group("host")
        if written is None:
            link = match.group().rstrip(_TRAILING)
        else:
            host = _link_host(written)
            if host is None:
                continue
            path = match.group()[len(written) :] if host == written else ""
            link = _SEP_RE.sub(".", host) + path.rstrip(_TRAILING)
        if link not in found:
            found.append(link)
    return found


# --- Personal data ------------------------------------------------------------------------


class PersonalDataKind(StrEnum):
    MOBILE = "mobile"
    ID_CARD = "id_card"
    EMAIL = "email"
    QQ = "qq"


_LOCAL = r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"
_AT = rf"(?:[ \t]*@[ \t]*|[ \t]*{_OPEN}[ \t]*(?:at|@)[ \t]*{_CLOSE}[ \t]*)"
_EMAIL = re.compile(
    rf"(?<![a-z0-9_%+.-])(?P<local>{_LOCAL})(?:{_AT}(?P<host>{_HOST})"
    # "name at example dot com": only with both words spelt out, and a spam ending.
    rf"|[ \t]+at[ \t]+(?P<spelt>{_LABEL}(?:[ \t]+dot[ \t]+{_LABEL})+))(?![a-z0-9])"
)
# Not glued to other digits (a phone number inside an order number), nor to a decimal or a
# thousands group (``2,194.6万``).
_NOT_AFTER_DIGITS = r"(?<![0-9])(?<![0-9][.,])"
_NOT_BEFORE_DIGITS = r"(?![0-9])(?![.,][0-9])"
_MOBILE = re.compile(
    # +86, 0086 or 86 before the number, or else no digit right before it.
    rf"(?:(?<![0-9])(?:\+|00)?[ \t]*86[ \t-]*(?=1[3-9])|{_NOT_AFTER_DIGITS})"
    r"(?P<number>1[3-9][0-9](?P<s>[ \t.-]?)[0-9]{4}(?P=s)[0-9]{4}"  # 13812345678, 138 1234 5678
    r"|1(?P<t>[ \t.-])[3-9](?:(?P=t)[0-9]){9})"  # 1 3 8 1 2 3 4 5 6 7 8
    # An amount written out in digits (投资15000000000元) is not a phone number.
    rf"{_NOT_BEFORE_DIGITS}(?![ \t]*[元块万亿人次个户%‰])"
)
_ID_CARD = re.compile(
    # region (6), birth date (8), sequence (3), check character; optionally spaced 6-8-4.
    rf"{_NOT_AFTER_DIGITS}(?P<number>[1-8][0-9]{{5}}(?P<s>[ \t-]?)(?:18|19|20)[0-9]{{6}}"
    rf"(?P=s)[0-9]{{3}}[0-9x]){_NOT_BEFORE_DIGITS}"
)
_QQ = re.compile(
    r"(?<![a-z])(?:qq|扣扣)[ \t]*(?:号码|号|群)?[ \t]*[:=]?[ \t]*"
    rf"{_NOT_AFTER_DIGITS}(?P<number>[1-9][0-9]{{4,10}}){_NOT_BEFORE_DIGITS}"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_card_valid(number: str) -> bool:
    """ISO 7064 MOD 11-2 check character and a real birth date no later than today."""
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if "10x98765432"[total % 11] != number[17]:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return born <= datetime.now(UTC).date()


@dataclass(frozen=True)
class _Datum:
    kind: PersonalDataKind
    value: str  # canonical: digits only, or name@domain
    start: int  # span in the normalised text
    end: int


def _digits(text: str) -> str:
    return re.sub(r"[^0-9x]", "", text)


def _emails(folded: str) -> Iterable[_Datum]:
    for match in _EMAIL.finditer(folded):
        if match.group("spelt"):
            host = re.sub(r"[ \t]+dot[ \t]+", ".", match.group("spelt"))
            if host.rsplit(".", 1)[-1] not in _EVASION_TLDS:
                continue
        else:
            host = _SEP_RE.sub(".", match.group("host"))
            ending = host.rsplit(".", 1)[-1]
            if not (ending.isalpha() and len(ending) >= 2):
                continue
        yield _Datum(PersonalDataKind.EMAIL, f"{match.group('local')}@{host}", match.start(), match.end())


def _numbers(folded: str) -> Iterable[_Datum]:
    """ID-card, mobile and QQ numbers, in that order of precedence."""
    for match in _ID_CARD.finditer(folded):
        number = _digits(match.group("number"))
        if _id_card_valid(number):
            yield _Datum(PersonalDataKind.ID_CARD, number.upper(), *match.span("number"))
    for match in _MOBILE.finditer(folded):
        yield _Datum(PersonalDataKind.MOBILE, _digits(match.group("number")), *match.span("number"))
    for match in _QQ.finditer(folded):
        yield _Datum(PersonalDataKind.QQ, match.group("number"), *match.span("number"))


def _personal_data(folded: str) -> list[_Datum]:
    # The first kind to claim characters keeps them: a phone number used as an e-mail name is
    # reported (and masked) once, as the e-mail address.
    data: list[_Datum] = list(_emails(folded))
    for datum in _numbers(folded):
        if all(datum.end <= d.start or datum.start >= d.end for d in data):
            data.append(datum)
    return sorted(data, key=lambda d: d.start)


def personal_data_found(text: str) -> list[tuple[str, str]]:
    """``(kind, value)`` for each personal datum in ``text``, in order; kinds are
    ``PersonalDataKind`` values and values are canonical (``13812345678``, ``name@example.com``).

    - **mobile**: mainland numbers, 11 digits starting 13–19, also written ``138 1234 5678``,
      ``138-1234-5678``, digit by digit, in full-width digits, with ``+86``/``0086``/``86-``.
    - **id_card**: 18-character resident ID numbers whose check character (ISO 7064 MOD 11-2)
      and birth date are valid — a random 18-digit number almost never passes both. The 15-digit
      cards of before 1999 are no longer valid and are not looked for.
    - **email**: ``name@domain`` (also ``＠``, a disguised dot as for links, ``name(at)example``,
      and ``name at example dot com`` spelt out with a spam ending).
    - **qq**: a number of 5–11 digits right after ``QQ``/``QQ号``/``QQ群``/``扣扣``: the most common
      contact detail left in Chinese comments.

    Not flagged: years, figures (``2,194.6万``, ``44.9%``), the 12345 hotline, phone-shaped digits
    inside a longer run of digits, landline numbers (offices publish theirs), numbers written in
    Chinese numerals (``一三八…``: a known gap).
    """
    return [(d.kind.value, d.value) for d in _personal_data(normalise(text))]


def _mask(datum: _Datum) -> str:
    value = datum.value
    if datum.kind == PersonalDataKind.EMAIL:
        local, host = value.split("@", 1)
        return f"{local[0]}***@{host}"
    if datum.kind == PersonalDataKind.MOBILE:
        return f"{value[:3]}****{value[-4:]}"
    if datum.kind == PersonalDataKind.ID_CARD:
        return f"{value[:6]}{'*' * 8}{value[-4:]}"
    return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"


def personal_data_mask(text: str) -> str:
    """``text`` with each personal datum replaced by a masked canonical form that still shows its
    kind: ``138****5678``, ``110101********123X``, ``z***@example.com``, ``QQ 12****78``. The rest
    of the text is returned exactly as written."""
    folded = normalised(text)
    pieces = []
    position = 0
    for datum in _personal_data(folded.text):
        start, end = folded.span_in_original(datum.start, datum.end)
        pieces.append(text[position:start])
        pieces.append(_mask(datum))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# --- All at once --------------------------------------------------------------------------


@dataclass(frozen=True)
class Screening:
    """What moderation needs to know about one text."""

    words: tuple[str, ...]
    links: tuple[str, ...]
    personal_data: tuple[tuple[str, str], ...]

    @property
    def is_clean(self) -> bool:
        return not (self.words or self.links or self.personal_data)


def screen(text: str, words: Iterable[str]) -> Screening:
    """Staff words, links and personal data of ``text`` in one call."""
    return Screening(
        words=tuple(sensitive_words_found(text, words)),
        links=tuple(links_found(text)),
        personal_data=tuple(personal_data_found(text)),
    )

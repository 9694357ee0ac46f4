"""Per-language rules for cutting text into sentences.

A :class:`LanguageRules` says which words are abbreviations (a ``.`` after them does not end
a sentence), which words open a clause, and whether a ``.`` after a small number is an
ordinal (German ``am 3. Mai``). :func:`rules_for` finds the rules for a language given as an
ISO 639-1 code (``"de"``), a tag (``"pt-BR"``) or a name as Whisper reports it
(``"german"``); anything unknown gets the English rules.

Terminators of scripts written without spaces (``。！？`` and their half-width forms) end a
sentence in every language, so a Chinese reply is cut into sentences even when its language
was not detected.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LANGUAGES", "LanguageRules", "language_code", "rules_for"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[str]:
    """Comma-separated abbreviations that may hold spaces (``z. b.``)."""
    return frozenset(p.strip() for p in text.split(",") if p.strip())


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """What a sentence splitter needs to know about one language (lower-case entries)."""

    code: str
    never_end: frozenset[str] = frozenset()
    """Abbreviations after which a sentence never ends (may hold spaces: ``z. b.``)."""
    before_number: frozenset[str] = frozenset()
    """Abbreviations that do not end a sentence when a number follows (``Nr. 5``)."""
    may_end: frozenset[str] = frozenset()
    """Abbreviations that end a sentence only before a capitalised word."""
    clause_openers: frozenset[str] = frozenset()
    """Words that open a clause: a long sentence may be cut just before them."""
    interjections: frozenset[str] = frozenset()
    """Words said as a phrase of their own before a comma ("Sure," "Well,"): one of them
    may be a whole first chunk."""
    ordinal_dot: bool = False
    """A ``.`` right after a number of one or two digits marks an ordinal, not an end."""


_EN = LanguageRules(
    code="en",
    never_end=_words(
        """dr. mr. mrs. ms. mx. prof. sr. st. mt. ft. vs. v. e.g. i.e. cf. approx. ca. esp.
        incl. dept. gen. gov. sen. rep. rev. capt. lt. col. sgt. jan. feb. mar. apr. jun.
        jul. aug. sep. sept. oct. nov. dec. viz. al. resp."""
    ),
    before_number=_words("no. nos. fig. figs. vol. p. pp. ch. sec. art. eq. ex. op. ver."),
    may_end=_words("etc. u.s. u.k. u.s.a. e.u. a.m. p.m. inc. ltd. co. corp. jr. ph.d. b.c. a.d."),
    clause_openers=_words("because but although whereas unless"),
    interjections=_words(
        """sure well yes yeah yep no nope okay ok alright right so oh ah hmm hi hello hey
        thanks sorry absolutely certainly definitely indeed great actually honestly"""
    ),
)

_DE = LanguageRules(
    code="de",
    never_end=_phrases(
        """z. b., z.b., d. h., d.h., u. a., u.a., s. o., s. u., o. ä., u. ä., v. a., i. d. r.,
        z. t., z.t., dr., prof., hr., fr., str., bzw., ca., vgl., ggf., evtl., inkl., zzgl.,
        sog., geb., gest., jh., jhd., mio., mrd., tel., abt., allg., bzgl., lt., max., min.,
        mind., ehem., jan., feb., märz., apr., jun., jul., aug., sep., sept., okt., nov., dez."""
    ),
    before_number=_words("nr. s. abs. art. bd. kap. tab. abb. ziff. bsp. no."),
    may_end=_phrases("usw., etc., u. s. w., o. g., a. d., n. chr., v. chr., gmbh., co."),
    clause_openers=_words("weil aber obwohl sondern denn dass wenn während"),
    ordinal_dot=True,
)

_FR = LanguageRules(
    code="fr",
    never_end=_phrases(
        """m., mm., mme., mmes., mlle., mlles., dr., pr., me., mgr., st., ste., p. ex., cf.,
        env., av., apr., éd., vol., janv., févr., avr., juil., sept., oct., nov., déc."""
    ),
    before_number=_words("n. no. p. pp. chap. art. fig. t."),
    may_end=_phrases("etc., j.-c., av. j.-c., cie., ltée."),
    clause_openers=_words("parce mais bien quoique tandis car puisque"),
)

_ES = LanguageRules(
    code="es",
    never_end=_phrases(
        """sr., sra., srta., sres., dr., dra., d., dña., ud., uds., vd., vds., lic., ing.,
        prof., p. ej., aprox., cf., vid., admón., avda., av., c/., ene., feb., abr., jun.,
        jul., ago., sept., oct., nov., dic."""
    ),
    before_number=_words("núm. n. no. pág. págs. p. art. cap. vol. tel."),
    may_end=_phrases("etc., ee. uu., ee.uu., s.a., a. c., d. c., cía."),
    clause_openers=_words("porque pero aunque mientras sino"),
)

_IT = LanguageRules(
    code="it",
    never_end=_phrases(
        """sig., sigg., sig.ra., sig.na., dott., dott.ssa., prof., prof.ssa., ing., avv.,
        arch., geom., rag., dr., p. es., ca., cfr., gen., ott., nov., dic., sett."""
    ),
    before_number=_words("n. nr. pag. pagg. p. art. cap. vol. tel."),
    may_end=_phrases("ecc., etc., s.p.a., s.r.l., a.c., d.c."),
    clause_openers=_words("perché ma sebbene mentre benché quindi"),
)

_PT = LanguageRules(
    code="pt",
    never_end=_phrases(
        """sr., sra., srta., dr., dra., prof., profa., eng., exmo., exma., v. exa., p. ex.,
        aprox., cf., av., jan., fev., abr., jun., jul., ago., set., out., nov., dez."""
    ),
    before_number=_words("n. nº. n.º. pág. págs. p. art. cap. vol. tel."),
    may_end=_phrases("etc., ltda., s.a., a.c., d.c., cia."),
    clause_openers=_words("porque mas embora enquanto porém"),
)

# Chinese and Japanese end sentences with 。！？, which every language honours, and have no
# abbreviations with a full stop; their tables are the empty defaults.
_ZH = LanguageRules(code="zh")
_JA = LanguageRules(code="ja")

LANGUAGES: dict[str, LanguageRules] = {r.code: r for r in (_EN, _DE, _FR, _ES, _IT, _PT, _ZH, _JA)}
"""The rules of every language with a table, by ISO 639-1 code."""

_NAMES = {
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "français": "fr",
    "spanish": "es",
    "castilian": "es",
    "español": "es",
    "italian": "it",
    "italiano": "it",
    "portuguese": "pt",
    "português": "pt",
    "chinese": "zh",
    "mandarin": "zh",
    "cantonese": "zh",
    "yue": "zh",
    "japanese": "ja",
}


def language_code(language: str | None) -> str | None:
    """ISO 639-1 code of ``language`` (a code, a tag like ``pt-BR`` or Whisper's name for
    it); None when it is empty. Unknown languages keep their primary subtag."""
    if not language:
        return None
    name = language.strip().lower().replace("_", "-")
    if not name:
        return None
    if name in _NAMES:
        return _NAMES[name]
    return name.split("-", 1)[0]


def rules_for(language: str | None) -> LanguageRules:
    """The splitting rules for ``language``; English for None or a language without a table."""
    return LANGUAGES.get(language_code(language) or "en", _EN)

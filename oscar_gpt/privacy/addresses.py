"""Street addresses and postcodes, where they are recognisable.

Precision comes first: a product text says "3 Series", "5 Street Fighter figures", "2 Way
Radio", "Speicherplatz 256 GB" or "1920 x 1080 HD", and all of that must survive. So a
street needs a house number, one to three capitalised words and a street type ("221B Baker
Street", "1600 Pennsylvania Avenue NW"), or a German or Dutch street name with its number
("Hauptstraße 5", "Musterweg 12a", "Keizersgracht 123"), or a French one ("12 rue de la
Paix"). Street types that are also everyday words ("Way", "Drive", "Place", "Court") count
only with a town or postcode after them or words such as "I live at" before them. Postcodes
count alone only where their shape is unmistakable (the UK's "SW1A 2AA", "IL 62704-1234"
after a state); a five-digit German or French one ("10115 Berlin") needs its town after it
and a comma, a line break, a street or a word such as "in" or "à" before it.

The pieces (street, town, postcode) are found separately; the scrubber joins neighbouring
pieces into one finding once stronger findings have had their say.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .base import Finding
from .numbers import NOT_PERSONAL_LABELS

_SPACE_CHARS = " \t\u00a0"
_SPACE = f"[{_SPACE_CHARS}]"
_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_CAP_WORD = rf"[{_UPPER}][{_LOWER}'’]+(?:-[{_UPPER}]?[{_LOWER}'’]+)?"

# -- postcodes -----------------------------------------------------------------------------

_UK_POSTCODE = (
    r"(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_UK_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
UK_POSTCODE_RE = re.compile(
    rf"(?<![\w\-/]){_UK_POSTCODE}{_SPACE}?{_UK_INWARD}(?![\w\-])|(?<![\w\-/])GIR{_SPACE}?0AA(?!\w)"
)
#: Inward codes that are more often a size: "H2 2GB" is memory.
_NOT_INWARD = ("GB", "TB", "MB", "PB")

# fmt: off
US_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR",
)
# fmt: on
_STATE = "(?:" + "|".join(US_STATES) + ")"
_US_CITY_STATE_ZIP_RE = re.compile(
    rf"(?<![\w\-]){_CAP_WORD}(?:{_SPACE}{_CAP_WORD}){{0,2}},{_SPACE}*{_STATE}{_SPACE}+"
    r"[0-9]{5}(?:-[0-9]{4})?(?![\w\-])"
)
_US_STATE_ZIP4_RE = re.compile(rf"(?<![\w\-]){_STATE}{_SPACE}+[0-9]{{5}}-[0-9]{{4}}(?![\w\-])")
_ZIP_RE = re.compile(
    rf"(?<![\w\-])(?:zip|zipcode|zip{_SPACE}code){_SPACE}*[:#]?{_SPACE}*"
    r"(?P<zip>[0-9]{5}(?:-[0-9]{4})?)(?![\w\-])",
    re.IGNORECASE,
)

_CITY_WORD = rf"[{_UPPER}][{_LOWER}'’]+"
_CITY = (
    rf"{_CITY_WORD}(?:-(?:(?:le|la|les|de|du|des|sur|sous|en|am|an|im)-)?{_CITY_WORD}"
    rf"|{_SPACE}(?:am|an|im|in|bei|ob|sur|sous|en|aan{_SPACE}den|aan{_SPACE}de|aan|op|le|la)"
    rf"{_SPACE}{_CITY_WORD}){{0,3}}(?:{_SPACE}Cedex(?:{_SPACE}[0-9]{{1,2}})?)?"
)
#: "10115 Berlin", "75002 Paris", "1015 CJ Amsterdam".
_PLZ_CITY_RE = re.compile(
    rf"(?<![\w\-.,/])(?:[0-9]{{5}}|[1-9][0-9]{{3}}{_SPACE}?(?!SA|SD|SS)[A-Z]{{2}}|"
    rf"[1-9][0-9]{{3}})(?P<gap>{_SPACE}+)(?P<city>{_CITY})(?![\w\-])"
)
#: Words after a number that make it a count, not a postcode ("10000 Bewertungen").
_NOT_CITIES = frozenset(
    " ".join(
        (
            "Stunden Stunde Minuten Sekunden Jahre Jahren Tage Tagen Wochen Monate Monaten Stück",
            "Seiten Watt Volt Euro Euros Punkte Bewertungen Kunden Umdrehungen Milliampere Mal",
            "Liter Meter Gramm Kilo Zoll Pixel Farben Artikel Bestellungen Exemplare Sterne",
            "Heures Heure Minutes Secondes Pages Points Jours Mois Ans Exemplaires Avis Clients",
            "Uur Minuten Jaar Dagen Weken Maanden Stuks Klanten Sterren Recensies Punten",
            "Reviews Units Points Hours Minutes Pages Pieces Stars Customers Orders Items Years",
            "Days Weeks Months Series Edition Pro Max Ultra Plus Mini Lite Bluetooth Ti Super",
            "Kelvin Lumen Lux Hertz Dpi Mah Gb Tb Mb Kb Hz",
            # sign-offs after an address: "12 Baker Street, Thanks!"
            "Thanks Thank Cheers Please Regards Best Kind Many Yours Sincerely Hi Hello Dear",
            "Danke Vielen Grüße Gruß Hallo Merci Cordialement Bonjour Bedankt Groetjes Dank",
        )
    ).split()
)
#: Two-letter endings of a Dutch postcode that are more often a size or a standard.
# fmt: off
_NOT_NL_LETTERS = frozenset({
    "HD", "UK", "EU", "US", "PC", "TV", "GB", "MB", "KB", "TB", "LP", "CD", "DJ", "VR", "AR",
    "AI", "OS", "XL", "GT", "RS",
})
# fmt: on
_PLZ_CUE_RE = re.compile(
    r"(?:^|[,\n]|(?<![^\W\d_])(?:in|nach|aus|plz|postleitzahl|à|cp|postal|postcode|zip|te|"
    r"bij|pour|vers|woonplaats|ort|wohnort)(?:[ \t\u00a0]+(?:est|ist|is|lautet))?)"
    r"[ \t\u00a0:]*\Z",
    re.IGNORECASE,
)

# -- streets -------------------------------------------------------------------------------

# fmt: off
_STRONG_TYPES = (
    "Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Ln", "Boulevard", "Blvd", "Parkway",
    "Pkwy", "Highway", "Hwy",
)
_WEAK_TYPES = (
    "Drive", "Dr", "Close", "Crescent", "Cres", "Terrace", "Gardens", "Gdns", "Square", "Sq",
    "Mews", "Place", "Pl", "Way", "Court", "Ct", "Grove", "Row", "Walk", "Hill", "Circle", "Cir",
    "Loop", "Trail", "Park", "Green", "Rise", "View", "Vale",
)
# fmt: on
_EN_STREET_RE = re.compile(
    rf"(?<![\w\-/.,£$€])"
    rf"(?P<unit>(?:Flat|Apartment|Apt\.?|Unit|Suite|Ste\.?){_SPACE}+[0-9]{{1,4}}[A-Za-z]?"
    rf"(?:/[0-9]{{1,3}})?,?{_SPACE}+)?"
    rf"(?P<number>[0-9]{{1,5}}[A-Za-z]?(?:{_SPACE}?[-–/]{_SPACE}?[0-9]{{1,5}}[A-Za-z]?)?)"
    rf",?{_SPACE}+"
    rf"(?P<pre>(?:N|S|E|W|NE|NW|SE|SW)\.?{_SPACE}+)?"
    rf"(?P<name>(?:{_CAP_WORD}{_SPACE}+){{1,3}}|[0-9]{{1,3}}(?:st|nd|rd|th){_SPACE}+)"
    rf"(?P<type>{'|'.join(_STRONG_TYPES + _WEAK_TYPES)})(?![\w'’\-])\.?"
    rf"(?P<dir>{_SPACE}+(?:NW|NE|SW|SE|N|S|E|W)(?![\w'’\-]))?"
)
#: Words that open a product phrase, not a street name: "10 Best Road Bikes", "2 Player Way".
_NOT_STREET_WORDS = frozenset(
    " ".join(
        (
            "Best Top New Great Super Pro Max Ultra Mini Free Fast Easy Smart Premium Pack Set",
            "Piece Pieces Pcs Series Gen Player Players Person People Seater Port Ports Speed",
            "Pairs Pair Colours Colors Sizes Styles Options Year Years Month Months Day Days",
            "Hour Hours Minute Minutes Star Stars Inch Metre Meter Foot Feet Litre Liter",
            "Amp Volt Watt Channel Button Layer Tier Step Slice Cup Door Drawer Shelf Wheel",
            "Bike Bikes Car Cars Game Games Book Books Part Parts The And Or Of For With",
        )
    ).split()
)
_DE_SUFFIXES = "straße|strasse|str\\.|weg|gasse|allee|damm|ufer|chaussee|steig|pfad|platz|ring"
_NL_SUFFIXES = "straat|weg|laan|gracht|plein|kade|singel|dijk|steeg|dreef|wal"
#: Street types written as a word of their own: "Berliner Allee 3", "Lange Laan 7".
_SEPARATE_TYPES = (
    "Straße|Strasse|Str\\.|Weg|Gasse|Allee|Platz|Ring|Damm|Ufer|Chaussee|Markt|Steig"
    "|Straat|Laan|Gracht|Plein|Kade|Singel|Dijk|Steeg|Dreef"
)
_HOUSE_NUMBER = (
    rf"[0-9]{{1,4}}(?:[a-zA-Z](?![\w]))?(?:{_SPACE}?[-–/]{_SPACE}?[0-9]{{1,4}}[a-zA-Z]?)?"
)
_CONTINENTAL_STREET_RE = re.compile(
    rf"(?<![\w\-])(?:"
    rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}]?[{_LOWER}]+)*(?:{_DE_SUFFIXES}|{_NL_SUFFIXES})"
    rf"|(?:[{_UPPER}][{_LOWER}]+[{_SPACE_CHARS}\-]){{1,2}}(?:{_SEPARATE_TYPES})"
    rf")(?<!\.){_SPACE}*{_HOUSE_NUMBER}(?![\w\-]|[.,][0-9])"
    rf"|(?<![\w\-])(?:[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}]?[{_LOWER}]+)*(?:str\.))"
    rf"{_SPACE}*{_HOUSE_NUMBER}(?![\w\-]|[.,][0-9])"
)
_FR_TYPES = (
    "rue|avenue|av\\.|boulevard|bd|place|allée|allee|impasse|chemin|quai|route|cours|passage|"
    "square|rond-point|voie|faubourg|promenade|parvis|sentier|résidence"
)
_FR_PARTICLE = r"(?:de|du|des|la|le|les|et|sur|sous|aux|au)"
_FR_WORD = rf"[{_UPPER}][^\W\d_]*(?:['’\-][^\W\d_]+)*(?![\w])"
_FR_NAME = (
    rf"(?:(?:{_FR_PARTICLE}{_SPACE}+|[ld]['’]){{0,3}}{_FR_WORD}"
    rf"(?:{_SPACE}+(?:{_FR_PARTICLE}{_SPACE}+|[ld]['’]){{0,3}}{_FR_WORD}){{0,3}})"
)
_FR_STREET_RE = re.compile(
    rf"(?<![\w\-/.,£$€])[0-9]{{1,4}}(?:{_SPACE}?(?:bis|ter|[A-Da-d])(?![\w]))?,?{_SPACE}+"
    rf"(?i:{_FR_TYPES}){_SPACE}+{_FR_NAME}"
    # Belgian and Swiss order: "Rue de la Loi 16", "Avenue Louise 54".
    rf"|(?<![\w\-])(?:Rue|Avenue|Boulevard|Place|Chemin|Quai|Route|Chaussée|Allée|Impasse)"
    rf"{_SPACE}+{_FR_NAME},?{_SPACE}*[0-9]{{1,4}}(?:{_SPACE}?(?:bis|ter|[a-d])(?![\w]))?(?![\w\-])"
)
_PO_BOX_RE = re.compile(
    rf"(?<![\w\-])(?:P\.?{_SPACE}?O\.?{_SPACE}?Box|Postfach|Postbus|Bo[îi]te{_SPACE}postale)"
    rf"{_SPACE}+[0-9]{{1,6}}(?:{_SPACE}[0-9]{{2,3}}){{0,3}}(?![\w\-])",
    re.IGNORECASE,
)

#: A unit or currency right after a number: "Platz 256 GB", "Weg 12 cm".
_QUANTITY_AFTER_RE = re.compile(
    r"[ \t\u00a0]?(?:%|°|x|×|€|£|\$|mm|cm|km|m|kg|g|gb|tb|mb|w|v|mah|hz|zoll|stück|stk|euro|"
    r"eur|jahre|tage|minuten|stunden|uur|pcs)(?![^\W\d_])",
    re.IGNORECASE,
)
_CAPITALISED_AFTER_RE = re.compile(rf"{_SPACE}+{_CAP_WORD}")
#: Words before a number that make it a count: "Pack of 3 Oak Lane candles".
_COUNT_BEFORE_RE = re.compile(
    rf"(?<![^\W\d_])(?:of|pack|set|buy|get|top|x|×|bundle|lot|only|just){_SPACE}*\Z", re.I
)
#: Words before an address that say it is one.
_ADDRESS_CUE_RE = re.compile(
    r"(?<![^\W\d_])(?:address|addr|live|lives|living|deliver|delivered|delivery|ship|shipped|"
    r"shipping|send|sent|post|posted|located|moved|move|stay|staying|reside|resides|collect|"
    r"wohne|wohnen|wohnt|adresse|anschrift|liefern|lieferadresse|lieferanschrift|schicken|"
    r"senden|habite|habitons|habitez|livrer|livraison|envoyer|adres|woon|wonen|woont|bezorgen|"
    r"sturen|verzenden|afleveradres)(?![^\W\d_])",
    re.IGNORECASE,
)
#: Where a town ends: punctuation, a line end, the text's end.
_TOWN_END_RE = re.compile(r"[ \t\u00a0]*(?:[.;:!?)\n,]|\Z)")
_SEPARATOR_RE = re.compile(rf"{_SPACE}*(?:[,\n]{_SPACE}*)?")
_TAIL_POSTCODE_RE = re.compile(
    rf"{_SPACE}*,?{_SPACE}*(?:{_UK_POSTCODE}{_SPACE}?{_UK_INWARD}|{_STATE}{_SPACE}+[0-9]{{5}}"
    rf"(?:-[0-9]{{4}})?|[0-9]{{5}})(?![\w\-])"
)
_TOWN_RE = re.compile(rf"{_CITY_WORD}(?:[ \-]{_CITY_WORD}){{0,2}}")
_TAIL_UNIT_RE = re.compile(
    rf"{_SPACE}*,?{_SPACE}*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|#){_SPACE}*[0-9]{{1,5}}"
    r"[A-Za-z]?(?![\w\-])"
)
#: Lower-case words that may follow an address directly: "8 Station Road by mistake". Any
#: other ("2 Mill Lane mugs") makes the street a product name, unless the address is cued.
_FOLLOWERS = frozenset(
    " ".join(
        (
            "by in on at and or but is was has had will would which that who where when if as",
            "for from to instead yesterday today tomorrow tonight now then please pls thanks",
            "last next this before after since until till near opposite behind with without",
            "not no so too also again please asap",
        )
    ).split()
)
_LOWER_AFTER_RE = re.compile(rf"{_SPACE}+([a-zß-öø-ÿ]+)")


def _not_a_town(words: str) -> bool:
    """Whether the words after a number or a street are no town: "Thanks", "Auftrag"."""
    first = words.split()[0].split("-")[0]
    return first in _NOT_CITIES or first.lower() in NOT_PERSONAL_LABELS


def _cue_before(text: str, start: int) -> bool:
    left = text[max(0, start - 64) : start]
    cut = max(left.rfind("\n"), left.rfind(". "), left.rfind("! "), left.rfind("? "))
    return bool(_ADDRESS_CUE_RE.search(left[cut + 1 :]))


def _tail(text: str, end: int) -> tuple[int, bool]:
    """Where an English street's flat, town and postcode end, and whether there was any."""
    had_unit = False
    while unit := _TAIL_UNIT_RE.match(text, end):
        end, had_unit = unit.end(), True
    separator = _SEPARATOR_RE.match(text, end)
    assert separator is not None  # it matches the empty string
    town = _TOWN_RE.match(text, separator.end())
    if town and not _not_a_town(town.group()):
        postcode = _TAIL_POSTCODE_RE.match(text, town.end())
        if postcode:
            return postcode.end(), True
        if separator.group().strip() and _TOWN_END_RE.match(text, town.end()):
            return town.end(), True
    postcode = _TAIL_POSTCODE_RE.match(text, end)
    if postcode:
        return postcode.end(), True
    return end, had_unit


def _english_streets(text: str) -> Iterator[tuple[int, int]]:
    for match in _EN_STREET_RE.finditer(text):
        number = match.group("number")
        words = match.group("name").split()
        start, end = match.span()
        if words[0] in _NOT_STREET_WORDS or _COUNT_BEFORE_RE.search(text, max(0, start - 8), start):
            continue
        cue = _cue_before(text, start)
        tail_end, has_tail = _tail(text, end)
        year = len(number) == 4 and number.isdigit() and 1900 <= int(number) <= 2099
        if (year or match.group("type").rstrip(".") in _WEAK_TYPES) and not (cue or has_tail):
            continue
        if not (has_tail or cue or match.group("dir")):
            # "Road Bikes", "Lane mugs": a word straight after the type continues a product.
            if _CAPITALISED_AFTER_RE.match(text, end):
                continue
            lower = _LOWER_AFTER_RE.match(text, end)
            if lower and lower.group(1) not in _FOLLOWERS:
                continue
        yield start, tail_end


def _continental_streets(text: str) -> Iterator[tuple[int, int]]:
    for match in _CONTINENTAL_STREET_RE.finditer(text):
        start, end = match.span()
        # "Speicherplatz 256 GB", "Arbeitsplatz 2 Monitore": a number of things, not a house.
        if _QUANTITY_AFTER_RE.match(text, end) or _CAPITALISED_AFTER_RE.match(text, end):
            continue
        yield start, end
    for match in _FR_STREET_RE.finditer(text):
        yield match.span()


#: A comma-separated piece of an address line before a postcode: "Little Snoring",
#: "Mill Lane", "The Old Barn" (capitalised words, a few small words between them).
_LINE_PIECE_RE = re.compile(
    rf"(?<![\w\-'’])({_CAP_WORD}(?:{_SPACE}+(?:{_CAP_WORD}|of|the|upon|on|under|in|by|le|la|de)){{0,4}})"
    rf"{_SPACE}*(,?){_SPACE}*\n?{_SPACE}*\Z"
)
#: A street without a known street type, before a continental postcode: "Unter den Linden
#: 77, 10117 Berlin", "Oudezijds Voorburgwal 14, 1012 EJ Amsterdam".
_NUMBERED_LINE_RE = re.compile(
    rf"(?<![\w\-'’])({_CAP_WORD}(?:{_SPACE}+(?:{_CAP_WORD}|den|der|des|dem|am|an|im|zum|zur|"
    rf"van|de|het|aan|op|la|le|du|des|of|the)){{0,4}}{_SPACE}+{_HOUSE_NUMBER})"
    rf"{_SPACE}*[,\n]{_SPACE}*\Z"
)


def _line_before(text: str, start: int, pieces: int) -> Iterator[tuple[int, int]]:
    """The pieces of the address line ending at a UK postcode: up to ``pieces`` back, each
    but the nearest separated by a comma."""
    for index in range(pieces):
        match = _LINE_PIECE_RE.search(text, max(0, start - 80), start)
        if not match or _not_a_town(match.group(1)):
            break
        if index and not match.group(2):
            break
        yield match.span(1)
        start = match.start(1)


def _postcodes(text: str, street_ends: set[int]) -> Iterator[tuple[int, int]]:
    for match in UK_POSTCODE_RE.finditer(text):
        postcode = match.group()
        if postcode[-2:] in _NOT_INWARD:
            continue
        if postcode[-4] in _SPACE_CHARS or _cue_before(text, match.start()):
            yield from _line_before(text, match.start(), 3)
            yield match.span()
    for pattern in (_US_CITY_STATE_ZIP_RE, _US_STATE_ZIP4_RE):
        for match in pattern.finditer(text):
            yield match.span()
    for match in _ZIP_RE.finditer(text):
        yield match.span("zip")
    for match in _PLZ_CITY_RE.finditer(text):
        start, end = match.span()
        city = match.group("city")
        if _not_a_town(city):
            continue
        code = text[start : match.start("gap")]
        if code[-2:].isalpha() and code[-2:] in _NOT_NL_LETTERS:
            continue
        year = len(code) == 4 and 1900 <= int(code) <= 2099
        left = text[max(0, start - 32) : start]
        after_street = any(
            end_ in street_ends and not text[end_:start].strip(f"{_SPACE_CHARS},\n")
            for end_ in range(max(0, start - 4), start + 1)
        )
        if after_street or (_PLZ_CUE_RE.search(left) and not year):
            street = _NUMBERED_LINE_RE.search(text, max(0, start - 80), start)
            if street:
                yield street.span(1)
            yield start, end


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


#: What may stand between two pieces of one address: "Hauptstraße 5, 10115 Berlin".
ADDRESS_JOINER_RE = re.compile(r"[ \t\u00a0,]{0,3}\n?[ \t\u00a0]{0,2}")


def find_addresses(text: str) -> Iterator[Finding]:
    """Pieces of addresses (street, town, postcode); the caller joins neighbouring pieces
    once stronger findings have had their say, so that an email glued to a town ("10115
    Berlinjane@example.com") costs the town, not the street."""
    if not any(ch.isdigit() for ch in text):
        return
    streets = [*_english_streets(text), *_continental_streets(text)]
    streets.extend(match.span() for match in _PO_BOX_RE.finditer(text))
    spans = [*streets, *_postcodes(text, {end for _, end in streets})]
    for start, end in _union(spans):
        yield Finding("address", start, end, text[start:end])

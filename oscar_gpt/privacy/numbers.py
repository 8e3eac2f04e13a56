"""Numbers that identify a person: payment cards, IBANs and phone numbers.

A shop's texts are full of long numbers that are nobody's: order numbers, SKUs, EAN and UPC
barcodes, prices, dimensions, model numbers. Each detector here checks what the number is
(Luhn and issuer for cards, mod 97 and length for IBANs, the numbering plan for phones) and
then reads the words around it: "order 100023456" or "EAN 4006381333931" is not a phone or
a card whatever its digits say.

Every pattern is bounded, and each candidate costs a walk of a few dozen characters: the cost
grows linearly with the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from .base import Finding

# -- the words around a number -------------------------------------------------------------

#: A label just before a number that says it is not personal: "order no. 100023456",
#: "SKU: 8801643123456", "Bestell-Nr. 4711", "numéro de commande 123", "EAN 4006381333931".
NOT_PERSONAL_LABELS = frozenset(
    " ".join(
        (
            # en
            "order orders sku skus upc ean ean13 ean8 gtin isbn asin mpn barcode item items",
            "article part model serial sn ref reference invoice tracking parcel shipment",
            "consignment ticket case rma return batch lot product catalogue catalog code",
            "voucher coupon promo id imei sscc style series version firmware build",
            "receipt transaction confirmation booking reservation delivery dispatch job",
            # de
            "bestellung bestell bestellnummer auftrag auftragsnummer artikel artikelnummer",
            "rechnung rechnungsnummer sendung sendungsnummer paket kundennummer seriennummer",
            "modell modellnummer typ vorgang belegnummer beleg lieferschein lieferung",
            # fr
            "commande facture référence reference colis suivi modèle produit",
            "série serie livraison",
            # nl
            "bestelling bestelnummer ordernummer factuur factuurnummer zending pakket",
            "artikelnr bestelnr productnummer",
        )
    ).split()
)
_LABEL_BEFORE_RE = re.compile(
    r"([^\W\d_]{2,30})(?P<tail>[\s:#.\-\u2013/]*"
    r"(?:(?:no|nr|num|number|nummer|numéro|numero|nummers|n[°º]|#)[\s:#.\-\u2013]*)?)"
    r"(?:(?:is|was|ist|lautet|war|est|était)[\s:]+)?"
    r"[(\[]?\Z",
    re.IGNORECASE,
)
#: "Nr.", "No.", "#" between a word and a number: the word names what the number numbers.
_NUMBER_MARK_RE = re.compile(r"(?<![^\W\d_])(?:no|nr|num|n[°º])(?![^\W\d_])|#", re.I)
#: Words before "no." that leave the number's kind open: "my no. is ...".
_OPEN_WORDS = frozenset(
    " ".join(
        (
            "my our your his her their the its a an this that mein meine meiner unsere ihre",
            "seine die der das dein deine mon ma mes notre votre le la les mijn onze jouw uw",
            "het de een is was ist",
        )
    ).split()
)


def label_before(text: str, start: int) -> tuple[str, bool]:
    """The word that labels the number at ``start`` ("order" in "Order no. 12"), lower case,
    and whether a "no.", "Nr." or "#" stands between them."""
    match = _LABEL_BEFORE_RE.search(text, max(0, start - 48), start)
    if not match:
        return "", False
    return match.group(1).lower(), bool(_NUMBER_MARK_RE.search(match.group("tail")))


_GLUED_NUMBER_RE = re.compile(r"(?:nummer|number|numero|nr|no|num)\Z")


def has_label(
    text: str, start: int, labels: frozenset[str], kind_words: re.Pattern[str] | None = None
) -> bool:
    """Whether the number at ``start`` is labelled as something else: one of ``labels``
    ("Ordernr." and "Bestellnummer" count as "order" and "bestell"), or any word with a
    "no." or "Nr." ("Ersatzteil Nr. 0151 2345 678") unless ``kind_words`` name the kind
    looked for ("Tel.-Nr.", "Card no.")."""
    label, marked = label_before(text, start)
    if label in labels or _GLUED_NUMBER_RE.sub("", label) in labels:
        return True
    if not marked or label in _OPEN_WORDS:
        return False
    return kind_words is None or not kind_words.fullmatch(label)


def _context_re(words: str) -> re.Pattern[str]:
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(words.split()) + r")(?![^\W\d_])", re.I)


#: Words near a number that say it is a phone number, in English, German, French and Dutch.
PHONE_CONTEXT_RE = _context_re(
    " ".join(
        (
            "call calling called phone phoned telephone tel tele mobile mob cell cellphone ring",
            "text texts sms whatsapp signal contact contactable reach reachable fax landline",
            "hotline helpline number numbers dial",
            "anrufen anruf ruf rufen rufe rufnummer telefon telefonnummer telefonisch handy",
            "handynummer mobil mobilnummer mobilfunk festnetz erreichbar erreichen nummer",
            "appeler appelez appelle appel rappeler téléphone tél portable joindre joignable",
            "numéro numero fixe",
            "bellen bel bellt telefoonnummer telefoon mobiel mobiele bereikbaar gsm",
        )
    )
)
#: Words near a number that say it is a payment card.
CARD_CONTEXT_RE = _context_re(
    "card cards visa mastercard amex maestro discover diners jcb debit credit "
    "karte kreditkarte kartennummer carte bancaire kaart creditcard pinpas"
)
#: Currency next to a number: a price, not a phone.
_CURRENCY_RE = re.compile(r"[£$€¥₹₣₤¢]|\b(?:EUR|GBP|USD|CHF|INR|euros?|pounds?|dollars?)\b", re.I)
#: A unit after a number: a quantity, not a phone. Units of one or two letters that are also
#: words ("a", "m", "st") count only glued to the number ("5000mAh", "12m").
_UNIT_AFTER_RE = re.compile(
    r"(?:[\s\u00a0]?(?:%|‰|°|×|mah|wh|kwh|mm|cm|km|kg|mg|gb|tb|mb|kb|hz|khz|mhz|ghz|kw|mv|db|lm|"
    r"lux|ml|rpm|dpi|ppi|fps|px|stück|stk|pcs|pieces|reviews|bewertungen|avis|units|"
    r"x[\s\u00a0]?[0-9])"
    r"|(?:m|g|w|v|a|l|k|p|x|ma|st))(?![^\W\d_])",
    re.I,
)
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
#: A whole date: "12/05/2024", "12.05.24", "2024-05-12", "05-12-2024".
_DATE_RE = re.compile(
    rf"\(?(?:{_DAY}[./-]{_MONTH}[./-](?:[0-9]{{4}}|[0-9]{{2}})"
    rf"|{_MONTH}[./-]{_DAY}[./-](?:[0-9]{{4}}|[0-9]{{2}})"
    rf"|[0-9]{{4}}[./-]{_MONTH}[./-]{_DAY})\)?"
)


def _near(
    pattern: re.Pattern[str], text: str, start: int, end: int, before: int, after: int
) -> bool:
    """Whether ``pattern`` occurs within ``before`` characters before the span or ``after``
    characters after it, in the same sentence-ish stretch (a line break ends it)."""
    left = text[max(0, start - before) : start]
    cut = max(left.rfind("\n"), left.rfind(". "))
    if cut >= 0:
        left = left[cut + 1 :]
    right = text[end : end + after]
    cut = right.find("\n")
    if cut >= 0:
        right = right[:cut]
    return bool(pattern.search(left) or pattern.search(right))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


# -- payment cards -------------------------------------------------------------------------

# 13 to 19 digits, separated by single spaces, dashes or dots; the groups are checked later.
_CARD_RE = re.compile(r"(?<![0-9A-Za-z.,/-])[0-9](?:[ .\-]?[0-9]){12,18}(?![0-9A-Za-z]|[.,][0-9])")

#: Issuer prefixes (IIN ranges) and the lengths each issues.
_ISSUERS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    # (first prefix, last prefix, lengths); prefixes compared on as many digits as they have
    (4, 4, (13, 16, 19)),  # Visa
    (51, 55, (16,)),  # Mastercard
    (2221, 2720, (16,)),  # Mastercard 2-series
    (34, 34, (15,)),  # American Express
    (37, 37, (15,)),
    (6011, 6011, (16, 17, 18, 19)),  # Discover
    (644, 649, (16, 17, 18, 19)),
    (65, 65, (16, 17, 18, 19)),
    (622126, 622925, (16, 17, 18, 19)),  # Discover / UnionPay co-brand
    (62, 62, (16, 17, 18, 19)),  # UnionPay
    (300, 305, (14, 15, 16, 17, 18, 19)),  # Diners Club
    (36, 36, (14, 15, 16, 17, 18, 19)),
    (38, 39, (16, 17, 18, 19)),
    (3528, 3589, (16, 17, 18, 19)),  # JCB
    (5018, 5018, (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro
    (5020, 5020, (12, 13, 14, 15, 16, 17, 18, 19)),
    (5038, 5038, (12, 13, 14, 15, 16, 17, 18, 19)),
    (5893, 5893, (12, 13, 14, 15, 16, 17, 18, 19)),
    (6304, 6304, (12, 13, 14, 15, 16, 17, 18, 19)),
    (6759, 6759, (12, 13, 14, 15, 16, 17, 18, 19)),
    (6761, 6763, (12, 13, 14, 15, 16, 17, 18, 19)),
    (2200, 2204, (16, 17, 18, 19)),  # Mir
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_issuer_ok(digits: str) -> bool:
    for first, last, lengths in _ISSUERS:
        width = len(str(first))
        if len(digits) in lengths and first <= int(digits[:width]) <= last:
            return True
    return False


def _card_groups_ok(raw: str) -> bool:
    """Written as a card is: one run of digits, or groups of four (Amex: 4-6-5, Diners
    4-6-4) with the same separator throughout."""
    separators = {ch for ch in raw if not ch.isdigit()}
    if not separators:
        return True
    if len(separators) > 1:
        return False
    groups = [len(group) for group in raw.split(separators.pop())]
    if groups in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(size == 4 for size in groups[:-1]) and 1 <= groups[-1] <= 4


def find_cards(text: str) -> Iterator[Finding]:
    for match in _CARD_RE.finditer(text):
        raw = match.group()
        digits = _digits(raw)
        if not (_card_groups_ok(raw) and luhn_ok(digits) and card_issuer_ok(digits)):
            continue
        start, end = match.span()
        if has_label(text, start, NOT_PERSONAL_LABELS, CARD_CONTEXT_RE):
            continue
        # A run of 13 digits is far more often an EAN-13 barcode than an old Visa number.
        if len(digits) == 13 and not _near(CARD_CONTEXT_RE, text, start, end, 48, 0):
            continue
        yield Finding("card", start, end, raw)


# -- IBANs ---------------------------------------------------------------------------------

#: IBAN length per country (ISO 13616 registry).
# fmt: off
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
# fmt: on
_IBAN_START_RE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{2})([0-9]{2})")
_IBAN_SEPARATORS = " \u00a0-"


def iban_ok(compact: str) -> bool:
    """Country length and the mod-97 check of ISO 13616 on an IBAN without spaces."""
    compact = compact.upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isascii():
        return False
    if not compact[4:].isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def find_ibans(text: str) -> Iterator[Finding]:
    size = len(text)
    for match in _IBAN_START_RE.finditer(text):
        country = match.group(1).upper()
        length = IBAN_LENGTHS.get(country)
        if length is None:
            continue
        chars = [country, match.group(2)]
        count, position = 4, match.end()
        # Walk the BBAN: letters and digits, single separators between them.
        while count < length and position < size:
            char = text[position]
            if char in _IBAN_SEPARATORS and position + 1 < size and text[position + 1].isalnum():
                position += 1
                continue
            if not (char.isascii() and char.isalnum()):
                break
            chars.append(char)
            count += 1
            position += 1
        if count != length:
            continue
        if position < size and text[position].isascii() and text[position].isalnum():
            continue  # runs on: "DE89...00X" is not this IBAN
        if iban_ok("".join(chars)):
            yield Finding("iban", match.start(), position, text[match.start() : position])


# -- phone numbers -------------------------------------------------------------------------

#: The country whose national formats a language's shoppers write by default.
LANGUAGE_REGIONS = {"en": "GB", "de": "DE", "fr": "FR", "nl": "NL", "hi": "IN"}
#: English text also gets US national formats read ("(212) 555-0100").
_EXTRA_REGIONS = {"en": ("US",)}
#: International call prefix besides "+", where it is not "00" ("011 44 ..." in the US).
_IDD = {"US": "011", "CA": "011"}
_MIN_DIGITS = 8


def phone_regions(region: str, language: str) -> list[str]:
    """The regions whose national formats are read, the shop's first."""
    lang = (language or "").split("-")[0].split("_")[0].lower()
    regions = [region.upper()]
    for extra in (LANGUAGE_REGIONS.get(lang), *_EXTRA_REGIONS.get(lang, ())):
        if extra and extra not in regions:
            regions.append(extra)
    return regions


def _groups(raw: str) -> list[str]:
    return [group for group in re.split(r"[^0-9]+", raw) if group]


def _grouped_as_formatted(main: str, number: phonenumbers.PhoneNumber) -> bool:
    """Whether the digits are grouped the way the numbering plan writes them."""
    groups = _groups(main)
    for style in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
        formatted = _groups(phonenumbers.format_number(number, style))
        if number.extension and formatted and formatted[-1] == number.extension:
            formatted.pop()
        if groups == formatted:
            return True
        # "+44 (0)20 7946 0958": the trunk zero in brackets after the country code.
        if (
            style == PhoneNumberFormat.INTERNATIONAL
            and len(groups) == len(formatted) + 1
            and groups[1] == "0"
            and [groups[0], *groups[2:]] == formatted
        ):
            return True
    return False


_EXTENSION_RE = re.compile(r"(?i)\s*(?:ext|x|#)")
_MORE_DIGITS_BEFORE_RE = re.compile(r"[0-9][ .\-]?\Z")
_MORE_DIGITS_AFTER_RE = re.compile(r"[ .\-]?[0-9]")


def _not_a_phone(
    text: str, start: int, end: int, main: str, international: bool, leading: bool = False
) -> bool:
    """What the words and characters around a number say against it being a phone."""
    return bool(
        has_label(text, start, NOT_PERSONAL_LABELS, PHONE_CONTEXT_RE)  # "order 100023456"
        or _DATE_RE.fullmatch(main.strip())  # "12.05.2024"
        or _CURRENCY_RE.search(text, max(0, start - 2), start)  # "£ 1299 0000"
        or _CURRENCY_RE.match(text[end : end + 8].lstrip())  # "1 299 000 EUR"
        or _UNIT_AFTER_RE.match(text, end)  # "20000 mAh"
        # a slice of a longer run of numbers: "4111 1111 1111 1111x", "36 38 40 42 44 46"
        or (not international and _MORE_DIGITS_BEFORE_RE.search(text, max(0, start - 2), start))
        or (not leading and _MORE_DIGITS_AFTER_RE.match(text, end))
        # glued to a word: a code ("XM5", "A4-2100")
        or (start and text[start - 1].isalpha())
        or (end < len(text) and text[end].isalpha())
    )


def _international(main: str, digits: str, number: phonenumbers.PhoneNumber, region: str) -> bool:
    """ "+44 20 ...", or the region's international prefix and a country code: "0044 20"."""
    if main.lstrip("(").startswith(("+", "\uff0b")):
        return True
    idd = _IDD.get(region, "00")
    return digits.startswith(idd) and digits[len(idd) :].startswith(str(number.country_code))


def _accept_phone(
    text: str,
    start: int,
    end: int,
    raw: str,
    number: phonenumbers.PhoneNumber,
    region: str,
    first: bool,
    leading: bool = False,
) -> bool:
    """Whether ``raw`` at ``start`` (a number read with ``region``'s formats) is a phone
    number. ``first``: that region is the shop's own; ``leading``: the number is the start
    of a longer run of digits ("020 7946 0958 24 hours a day")."""
    main = _EXTENSION_RE.split(raw)[0]
    digits = _digits(main)
    if len(digits) < _MIN_DIGITS or "," in main:
        return False
    international = _international(main, digits, number, region)
    if _not_a_phone(text, start, end, main, international, leading):
        return False
    valid = phonenumbers.is_valid_number(number)
    context = _near(PHONE_CONTEXT_RE, text, start, end, 48, 24)
    if international:
        return valid or context or _grouped_as_formatted(main, number)
    separated = len(_groups(main)) > 1 or main.startswith("(")
    trunk = main.lstrip("(").startswith("0")
    if valid:
        if context:
            return True
        if separated:
            return trunk or _grouped_as_formatted(main, number)
        # One run of digits and nothing saying it is a phone: only a number of the shop's
        # own country, with the trunk zero and the full length ("07911123456").
        return first and trunk and len(digits) >= 10
    # Possible but not valid (unallocated ranges, such as Ofcom's drama numbers): only
    # where it is written the way a phone number is, or said to be one.
    if trunk and (context or (first and separated)) and len(digits) >= 10:
        return True
    return separated and (trunk or context) and _grouped_as_formatted(main, number)


#: Digit groups with single separators: where the matcher may have read only fragments.
_RUN_RE = re.compile(r"(?<![\w+])\+?\(?[0-9]{1,5}\)?(?:[ .\-/]?\(?[0-9]{1,5}\)?){1,11}")
_GROUP_RE = re.compile(r"[0-9]+")
#: How a phone number starts: "+", "(", a trunk zero, or a North American "1 800".
_PHONE_START_RE = re.compile(r"[+(0]|1[ .\-]?\(?[0-9]{3}(?![0-9])")


def _leading_numbers(
    text: str, regions: Sequence[str], taken: set[int]
) -> Iterator[tuple[int, int]]:
    """A phone number at the start of a run of numbers that the matcher read as fragments:
    "020 7946 0958 24 hours", "+44 20 7946 0958 24/7". The longest leading groups win."""
    for run in _RUN_RE.finditer(text):
        if run.start() in taken or not (
            _PHONE_START_RE.match(run.group())
            or _near(PHONE_CONTEXT_RE, text, run.start(), run.start(), 48, 0)
        ):
            continue
        groups = [group.end() for group in _GROUP_RE.finditer(run.group())]
        # A phone number has seven groups at most: "+33 (0)1 99 00 12 34".
        for count in range(min(len(groups) - 1, 7), 1, -1):
            end = run.start() + groups[count - 1]
            raw = text[run.start() : end]
            if len(_digits(raw)) < _MIN_DIGITS:
                break
            accepted = False
            for index, region in enumerate(regions):
                try:
                    number = phonenumbers.parse(raw, region)
                except phonenumbers.NumberParseException:
                    continue
                if phonenumbers.is_possible_number(number) and _accept_phone(
                    text, run.start(), end, raw, number, region, index == 0, leading=True
                ):
                    accepted = True
                    break
            if accepted:
                yield run.start(), end
                break


#: Where no phone number continues: a line break, or a gap of two spaces or more. The matcher
#: reads "020 7946 0958  020 7946 0959" as one over-long candidate and splits it badly, so
#: it is shown these gaps as ";" (same length: the spans stay the text's).
_GAP_RE = re.compile(r"[ \t\u00a0\u3000]{2,}|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def find_phones(text: str, regions: Sequence[str]) -> Iterator[Finding]:
    """Phone numbers in national formats of ``regions`` (the first is the shop's) and in
    international format ("+44 ...", "0049 ...") from anywhere."""
    seen: set[tuple[int, int]] = set()
    view = _GAP_RE.sub(lambda match: ";" * len(match.group()), text)
    for index, region in enumerate(regions):
        for match in PhoneNumberMatcher(view, region, leniency=Leniency.POSSIBLE):
            span = (match.start, match.end)
            if span in seen:
                continue
            raw, number = match.raw_string, match.number
            if _accept_phone(text, match.start, match.end, raw, number, region, index == 0):
                seen.add(span)
                yield Finding("phone", match.start, match.end, text[match.start : match.end])
    for start, end in _leading_numbers(view, regions, {start for start, _ in seen}):
        yield Finding("phone", start, end, text[start:end])

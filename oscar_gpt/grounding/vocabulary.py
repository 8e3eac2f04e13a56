"""The words the claims checker looks for, one vocabulary per language.

Every term maps a surface form (lower case, words separated by one space; a hyphen in the
text reads as a space) to a *concept*, named in English. Concepts are shared between
languages, so German copy saying "schwarz" is supported by an English fact "Colour: Black".

A concept's ``parents`` are what it implies: "stainless steel" is steel and metal, so a text
saying "metal" is supported by a fact saying "stainless steel", never the other way round.
``supported_by`` lists the other concepts that support it ("IP67" supports "waterproof").

Add a language by adding an entry to :data:`LANGUAGES` and its surfaces to :data:`CONCEPTS`;
a language without an entry falls back to English.
"""

from __future__ import annotations

from typing import NamedTuple


class Concept(NamedTuple):
    #: "material", "colour", "absolute" or "certification".
    kind: str
    #: What this concept implies (keys of other concepts).
    parents: tuple[str, ...] = ()
    #: Other concepts whose mention in a fact supports this one.
    supported_by: tuple[str, ...] = ()


# (key, kind, parents, English surfaces, German surfaces, supported by)
_C = tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]

_WATERPROOF_IP = ("ipx7", "ipx8", "ip67", "ip68", "ip69k", "ip69")
_SPLASH_IP = (
    *("ipx4", "ipx5", "ipx6", "ip44", "ip54", "ip55", "ip64", "ip65", "ip66"),
    *_WATERPROOF_IP,
)

# fmt: off
_CONCEPTS: tuple[_C, ...] = (
    # -- materials: metals ---------------------------------------------------------------
    ("metal", "material", (), ("metal", "metals"), ("metall", "metallisch"), ()),
    ("steel", "material", ("metal",), ("steel",), ("stahl",), ()),
    ("stainless steel", "material", ("steel", "metal"),
     ("stainless steel", "stainless"), ("edelstahl", "rostfreier stahl"), ()),
    ("carbon steel", "material", ("steel", "metal"), ("carbon steel",), ("kohlenstoffstahl",), ()),
    ("copper", "material", ("metal",), ("copper",), ("kupfer",), ()),
    ("aluminium", "material", ("metal",), ("aluminium", "aluminum"), ("aluminium", "alu"), ()),
    ("brass", "material", ("metal",), ("brass",), ("messing",), ()),
    ("bronze", "material", ("metal",), ("bronze",), ("bronze",), ()),
    ("titanium", "material", ("metal",), ("titanium",), ("titan",), ()),
    ("iron", "material", ("metal",), ("iron", "wrought iron"), ("eisen", "schmiedeeisen"), ()),
    ("cast iron", "material", ("iron", "metal"), ("cast iron",), ("gusseisen",), ()),
    ("zinc", "material", ("metal",), ("zinc", "zinc alloy"), ("zink", "zinklegierung"), ()),
    ("nickel", "material", ("metal",), ("nickel",), ("nickel",), ()),
    ("chrome", "material", ("metal",), ("chrome", "chromium", "chromed"), ("chrom",), ()),
    ("silver", "material", ("metal",), ("silver",), ("silber",), ()),
    ("sterling silver", "material", ("silver", "metal"), ("sterling silver", "sterling"),
     ("sterlingsilber",), ()),
    ("gold", "material", ("metal",), ("gold", "golden"), ("gold", "golden"), ()),
    ("rose gold", "material", ("gold", "metal"), ("rose gold",), ("roségold", "rosegold"), ()),
    ("platinum", "material", ("metal",), ("platinum",), ("platin",), ()),
    ("tungsten", "material", ("metal",), ("tungsten",), ("wolfram",), ()),
    ("pewter", "material", ("metal",), ("pewter",), ("zinn",), ()),
    # -- wood ----------------------------------------------------------------------------
    ("wood", "material", (), ("wood", "wooden", "hardwood", "solid wood"),
     ("holz", "hölzern", "massivholz"), ()),
    ("oak", "material", ("wood",), ("oak",), ("eiche", "eichenholz"), ()),
    ("walnut", "material", ("wood",), ("walnut",), ("walnuss", "nussbaum", "nussbaumholz"), ()),
    ("bamboo", "material", ("wood",), ("bamboo",), ("bambus",), ()),
    ("pine", "material", ("wood",), ("pine",), ("kiefer", "kiefernholz", "kiefernholz"), ()),
    ("maple", "material", ("wood",), ("maple",), ("ahorn",), ()),
    ("teak", "material", ("wood",), ("teak",), ("teak", "teakholz"), ()),
    ("mahogany", "material", ("wood",), ("mahogany",), ("mahagoni",), ()),
    ("beech", "material", ("wood",), ("beech",), ("buche", "buchenholz"), ()),
    ("birch", "material", ("wood",), ("birch",), ("birke", "birkenholz"), ()),
    ("cedar", "material", ("wood",), ("cedar",), ("zeder", "zedernholz"), ()),
    ("acacia", "material", ("wood",), ("acacia",), ("akazie", "akazienholz"), ()),
    ("rosewood", "material", ("wood",), ("rosewood",), ("palisander",), ()),
    ("alder", "material", ("wood",), ("alder",), ("erle",), ()),
    ("spruce", "material", ("wood",), ("spruce",), ("fichte",), ()),
    ("plywood", "material", ("wood",), ("plywood",), ("sperrholz",), ()),
    # -- textiles and leather ------------------------------------------------------------
    ("cotton", "material", (), ("cotton",), ("baumwolle",), ()),
    ("wool", "material", (), ("wool", "woolen", "woollen"), ("wolle",), ()),
    ("merino", "material", ("wool",), ("merino", "merino wool"), ("merino", "merinowolle"), ()),
    ("cashmere", "material", ("wool",), ("cashmere",), ("kaschmir",), ()),
    ("alpaca", "material", ("wool",), ("alpaca",), ("alpaka",), ()),
    ("mohair", "material", ("wool",), ("mohair",), ("mohair",), ()),
    ("silk", "material", (), ("silk",), ("seide",), ()),
    ("linen", "material", (), ("linen",), ("leinen",), ()),
    ("polyester", "material", (), ("polyester",), ("polyester",), ()),
    ("nylon", "material", (), ("nylon", "polyamide"), ("nylon", "polyamid"), ()),
    ("elastane", "material", (), ("elastane", "spandex", "lycra"), ("elasthan",), ()),
    ("acrylic", "material", (), ("acrylic",), ("acryl",), ()),
    ("viscose", "material", (), ("viscose", "rayon"), ("viskose",), ()),
    ("denim", "material", ("cotton",), ("denim",), ("denim", "jeansstoff"), ()),
    ("fleece", "material", (), ("fleece",), ("fleece",), ()),
    ("velvet", "material", (), ("velvet",), ("samt",), ()),
    ("satin", "material", (), ("satin",), ("satin",), ()),
    ("canvas", "material", (), ("canvas",), ("canvas", "segeltuch"), ()),
    ("mesh", "material", (), ("mesh",), ("mesh", "netzstoff"), ()),
    ("microfibre", "material", (), ("microfibre", "microfiber"), ("mikrofaser",), ()),
    ("leather", "material", (), ("leather", "genuine leather", "full grain leather"),
     ("leder", "echtleder", "glattleder"), ()),
    ("suede", "material", ("leather",), ("suede",), ("wildleder", "veloursleder"), ()),
    ("faux leather", "material", (),
     ("faux leather", "vegan leather", "pu leather", "synthetic leather", "leatherette",
      "imitation leather"), ("kunstleder",), ()),
    # -- plastics, rubber, glass, ceramics, composites ------------------------------------
    ("plastic", "material", (), ("plastic",), ("kunststoff", "plastik"), ()),
    ("abs", "material", ("plastic",), ("abs", "abs plastic"), ("abs",), ()),
    ("pvc", "material", ("plastic",), ("pvc",), ("pvc",), ()),
    ("vinyl", "material", ("plastic",), ("vinyl",), ("vinyl",), ()),
    ("polycarbonate", "material", ("plastic",), ("polycarbonate",), ("polycarbonat",), ()),
    ("polypropylene", "material", ("plastic",), ("polypropylene",), ("polypropylen",), ()),
    ("polyethylene", "material", ("plastic",), ("polyethylene",), ("polyethylen",), ()),
    ("polyurethane", "material", ("plastic",), ("polyurethane",), ("polyurethan",), ()),
    ("tpu", "material", ("plastic",), ("tpu",), ("tpu",), ()),
    ("eva", "material", ("plastic",), ("eva",), ("eva",), ()),
    ("resin", "material", (), ("resin", "epoxy"), ("harz", "kunstharz", "epoxidharz"), ()),
    ("silicone", "material", (), ("silicone",), ("silikon",), ()),
    ("rubber", "material", (), ("rubber",), ("gummi", "kautschuk"), ()),
    ("latex", "material", ("rubber",), ("latex",), ("latex",), ()),
    ("neoprene", "material", ("rubber",), ("neoprene",), ("neopren",), ()),
    ("foam", "material", (), ("foam",), ("schaumstoff", "schaum"), ()),
    ("memory foam", "material", ("foam",), ("memory foam",), ("memory schaum",), ()),
    ("glass", "material", (), ("glass",), ("glas",), ()),
    ("tempered glass", "material", ("glass",), ("tempered glass", "toughened glass"),
     ("sicherheitsglas", "hartglas"), ()),
    ("borosilicate glass", "material", ("glass",), ("borosilicate", "borosilicate glass"),
     ("borosilikatglas",), ()),
    ("crystal", "material", (), ("crystal",), ("kristall", "kristallglas"), ()),
    ("ceramic", "material", (), ("ceramic",), ("keramik",), ()),
    ("porcelain", "material", ("ceramic",), ("porcelain",), ("porzellan",), ()),
    ("stoneware", "material", ("ceramic",), ("stoneware",), ("steinzeug",), ()),
    ("marble", "material", (), ("marble",), ("marmor",), ()),
    ("granite", "material", (), ("granite",), ("granit",), ()),
    ("concrete", "material", (), ("concrete",), ("beton",), ()),
    ("carbon fibre", "material", (), ("carbon fibre", "carbon fiber", "carbon"),
     ("carbon", "kohlefaser", "karbon"), ()),
    ("fibreglass", "material", (), ("fibreglass", "fiberglass", "glass fibre", "glass fiber"),
     ("glasfaser",), ()),
    ("kevlar", "material", (), ("kevlar", "aramid"), ("kevlar", "aramid"), ()),
    ("cork", "material", (), ("cork",), ("kork",), ()),
    ("jute", "material", (), ("jute",), ("jute",), ()),
    ("hemp", "material", (), ("hemp",), ("hanf",), ()),
    ("rattan", "material", (), ("rattan", "wicker"), ("rattan", "korbgeflecht"), ()),
    ("cardboard", "material", (), ("cardboard",), ("pappe", "karton"), ()),
    # -- colours -------------------------------------------------------------------------
    ("black", "colour", (), ("black",), ("schwarz",), ()),
    ("white", "colour", (), ("white",), ("weiß", "weiss"), ()),
    ("grey", "colour", (), ("grey", "gray"), ("grau",), ()),
    ("charcoal", "colour", ("grey",), ("charcoal", "anthracite"), ("anthrazit",), ()),
    ("red", "colour", (), ("red",), ("rot",), ()),
    ("burgundy", "colour", ("red",), ("burgundy", "maroon", "wine red"), ("bordeaux", "weinrot"),
     ()),
    ("blue", "colour", (), ("blue",), ("blau",), ()),
    ("navy", "colour", ("blue",), ("navy", "navy blue", "dark blue"),
     ("marineblau", "dunkelblau", "navy"), ()),
    ("light blue", "colour", ("blue",), ("light blue", "sky blue", "baby blue"),
     ("hellblau",), ()),
    ("turquoise", "colour", (), ("turquoise", "teal", "aqua", "cyan"), ("türkis", "petrol"), ()),
    ("green", "colour", (), ("green",), ("grün",), ()),
    ("olive", "colour", ("green",), ("olive", "khaki green"), ("oliv", "olivgrün"), ()),
    ("yellow", "colour", (), ("yellow",), ("gelb",), ()),
    ("orange", "colour", (), ("orange",), ("orange",), ()),
    ("purple", "colour", (), ("purple", "violet", "lilac", "lavender purple"),
     ("lila", "violett", "flieder"), ()),
    ("pink", "colour", (), ("pink", "rose pink", "fuchsia", "magenta"),
     ("rosa", "pink", "fuchsia", "magenta"), ()),
    ("brown", "colour", (), ("brown", "chocolate brown", "tan"), ("braun",), ()),
    ("beige", "colour", (), ("beige", "khaki", "taupe", "sand"), ("beige", "khaki", "taupe"), ()),
    ("cream", "colour", (), ("cream", "ivory", "off white"), ("creme", "elfenbein", "cremeweiß"),
     ()),
    ("multicolour", "colour", (),
     ("multicolour", "multicolor", "multicoloured", "multicolored", "multi colour",
      "multi color", "rainbow"), ("mehrfarbig", "bunt"), ()),
    # -- absolute and unverifiable claims ------------------------------------------------
    ("waterproof", "absolute", ("water resistant", "splash proof"),
     ("waterproof", "water proof"), ("wasserdicht",), _WATERPROOF_IP),
    ("water resistant", "absolute", ("splash proof",),
     ("water resistant", "water resistance", "water repellent", "water repellant"),
     ("wasserfest", "wasserabweisend", "wasserresistent"), _SPLASH_IP),
    ("splash proof", "absolute", (), ("splash proof", "splashproof", "splash resistant"),
     ("spritzwassergeschützt", "spritzwasserfest"), _SPLASH_IP),
    ("dustproof", "absolute", (), ("dustproof", "dust proof", "dust tight", "dust resistant"),
     ("staubdicht", "staubgeschützt"), ("ip5x", "ip6x", "ip54", "ip55", "ip64", "ip65",
                                          "ip66", "ip67", "ip68", "ip69k")),
    ("shockproof", "absolute", (),
     ("shockproof", "shock proof", "shock resistant", "drop proof", "dropproof"),
     ("stoßfest", "stossfest", "bruchsicher"), ()),
    ("scratch resistant", "absolute", (),
     ("scratch proof", "scratchproof", "scratch resistant"), ("kratzfest",), ()),
    ("unbreakable", "absolute", (), ("unbreakable", "indestructible", "shatterproof"),
     ("unzerbrechlich",), ()),
    ("rustproof", "absolute", (), ("rustproof", "rust proof", "rust resistant"),
     ("rostfrei", "rostbeständig"), ("stainless steel",)),
    ("best", "absolute", (),
     ("best", "best selling", "bestselling", "best seller", "bestseller", "finest"),
     ("beste", "bester", "besten", "bestes", "bestseller"), ()),
    ("number one", "absolute", (), ("number one",), ("nummer eins",), ()),
    ("world's first", "absolute", (), (), (), ()),
    ("guaranteed", "absolute", (), ("guarantee", "guaranteed", "guarantees"),
     ("garantie", "garantiert"), ()),
    ("lifetime warranty", "absolute", ("guaranteed",),
     ("lifetime warranty", "lifetime guarantee", "lifelong warranty", "lifelong guarantee"),
     ("lebenslange garantie",), ()),
    ("never", "absolute", (), ("never",), ("nie", "niemals"), ()),
    ("perfect", "absolute", (), ("perfect", "perfectly", "flawless"),
     ("perfekt", "perfekte", "perfekten", "perfekter", "makellos"), ()),
    ("clinically proven", "absolute", (),
     ("clinically proven", "clinically tested", "scientifically proven", "dermatologist tested",
      "dermatologist recommended", "dermatologically tested", "doctor recommended"),
     ("klinisch getestet", "klinisch erwiesen", "klinisch bewiesen", "dermatologisch getestet",
      "wissenschaftlich bewiesen"), ()),
    ("eco friendly", "absolute", (),
     ("eco friendly", "environmentally friendly", "environment friendly", "green certified"),
     ("umweltfreundlich", "umweltschonend"), ()),
    ("sustainable", "absolute", (), ("sustainable", "sustainably"), ("nachhaltig",), ()),
    ("biodegradable", "absolute", (), ("biodegradable",), ("biologisch abbaubar",), ()),
    ("compostable", "absolute", (), ("compostable",), ("kompostierbar",), ()),
    ("recyclable", "absolute", (), ("recyclable", "fully recyclable"), ("recycelbar",), ()),
    ("carbon neutral", "absolute", (), ("carbon neutral", "climate neutral"),
     ("klimaneutral", "co2 neutral"), ()),
    ("organic", "absolute", (), ("organic",), ("bio", "biologisch", "ökologisch"), ()),
    ("hypoallergenic", "absolute", (), ("hypoallergenic",), ("hypoallergen", "hypoallergene"),
     ()),
    ("non toxic", "absolute", (), ("non toxic", "nontoxic", "chemical free", "toxin free"),
     ("ungiftig", "schadstofffrei"), ()),
    ("all natural", "absolute", (), ("all natural",), ("naturrein",), ()),
    ("award winning", "absolute", (), ("award winning",), ("preisgekrönt",), ()),
    ("top rated", "absolute", (),
     ("top rated", "highest rated", "most popular", "industry leading", "market leading"),
     ("marktführer", "marktführend"), ()),
    ("military grade", "absolute", (), ("military grade",), ("militärstandard",), ()),
    ("medical grade", "absolute", (), ("medical grade",), ("medizinisch",), ()),
    ("food grade", "absolute", (), ("food grade", "food safe"), ("lebensmittelecht",), ()),
    ("dishwasher safe", "absolute", (), ("dishwasher safe", "dishwasher proof"),
     ("spülmaschinenfest", "spülmaschinengeeignet"), ()),
    ("microwave safe", "absolute", (), ("microwave safe", "microwaveable", "microwavable"),
     ("mikrowellengeeignet", "mikrowellenfest"), ()),
    ("oven safe", "absolute", (), ("oven safe",), ("ofenfest", "backofenfest"), ()),
    # -- certifications ------------------------------------------------------------------
    ("ce", "certification", (), ("ce certified", "ce marked", "ce mark"),
     ("ce zertifiziert", "ce kennzeichnung"), ()),
    ("fda", "certification", (),
     ("fda", "fda approved", "fda cleared", "fda registered", "fda certified"),
     ("fda", "fda zugelassen"), ()),
    ("ul listed", "certification", (), ("ul listed", "ul certified", "etl listed"),
     ("ul gelistet",), ()),
    ("bpa free", "certification", (), ("bpa free",), ("bpa frei",), ()),
    ("vegan", "certification", (), ("vegan",), ("vegan", "vegane", "veganer", "veganes"), ()),
    ("energy star", "certification", (), ("energy star",), ("energy star",), ()),
    ("rohs", "certification", (), ("rohs", "rohs compliant"), ("rohs",), ()),
    ("fcc", "certification", (), ("fcc", "fcc certified"), ("fcc",), ()),
    ("oeko tex", "certification", (), ("oeko tex", "oekotex", "öko tex"),
     ("oeko tex", "öko tex"), ()),
    ("gots", "certification", (), ("gots", "gots certified"), ("gots",), ()),
    ("fsc", "certification", (), ("fsc", "fsc certified"), ("fsc", "fsc zertifiziert"), ()),
    ("cruelty free", "certification", (), ("cruelty free",), ("tierversuchsfrei",), ()),
    ("gluten free", "certification", (), ("gluten free",), ("glutenfrei",), ()),
    ("lactose free", "certification", (), ("lactose free", "dairy free"), ("laktosefrei",), ()),
    ("sugar free", "certification", (), ("sugar free",), ("zuckerfrei",), ()),
    ("non gmo", "certification", (), ("non gmo", "gmo free"), ("gentechnikfrei",), ()),
    ("kosher", "certification", (), ("kosher",), ("koscher",), ()),
    ("halal", "certification", (), ("halal",), ("halal",), ()),
    ("fair trade", "certification", (), ("fair trade", "fairtrade"), ("fairtrade",), ()),
    ("tuv", "certification", (), ("tüv", "tuv"), ("tüv", "tuv", "tüv geprüft"), ()),
    ("greenguard", "certification", (), ("greenguard",), ("greenguard",), ()),
)
# fmt: on

#: Every concept by key.
CONCEPTS: dict[str, Concept] = {
    key: Concept(kind, parents, supported_by)
    for key, kind, parents, _en, _de, supported_by in _CONCEPTS
}

#: The kinds of term a shop may extend through ``extra_vocabulary``.
TERM_KINDS = ("material", "colour", "absolute", "certification")

# Endings added to every material and colour surface, so plurals and inflections match.
_ENDINGS = {"en": ("", "s", "es"), "de": ("", "e", "en", "er", "es", "em", "s")}


def _terms(language: str, column: int) -> dict[str, str]:
    terms: dict[str, str] = {}
    for row in _CONCEPTS:
        key, kind = row[0], row[1]
        for surface in row[column]:
            endings = _ENDINGS[language] if kind in ("material", "colour") else ("",)
            for ending in endings:
                terms.setdefault(surface + ending, key)
    return terms


# fmt: off
_NUMBER_WORDS_EN = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "one": 1, "dozen": 12,
}
_NUMBER_WORDS_DE = {
    "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9,
    "zehn": 10, "elf": 11, "zwölf": 12, "eins": 1, "ein": 1, "eine": 1, "einen": 1,
    "dutzend": 12,
}
# fmt: on


class Language(NamedTuple):
    """Everything the checker reads that depends on the language of the text."""

    code: str
    #: surface -> concept key, for materials, colours, absolute claims and certifications.
    terms: dict[str, str]
    #: Number words; "one" and its kin count only when a unit follows ("one hour").
    number_words: dict[str, int]
    #: Number words that are pronouns or articles more often than numbers.
    weak_number_words: frozenset[str]
    #: The decimal separator and the thousands separator.
    decimal: str
    thousands: str
    #: Words after a number that make it something other than a count ("3 of the", "2 times").
    not_count: frozenset[str]
    #: Words before a number that are no attribute name ("is 5", "with 3").
    not_context: frozenset[str]
    #: Words that negate what follows them (within three words).
    negations: frozenset[str]
    #: Words just before a number that widen its tolerance (see ``HEDGE_TOLERANCE``).
    hedges: tuple[str, ...]
    #: Words just before a number that turn it into a bound: phrase -> operator.
    comparators: dict[str, str]
    #: Words before a number that make it a count ("pack of 3").
    count_before: tuple[str, ...]
    #: Words that make "2 and 4" a range when they come before it ("between").
    range_openers: frozenset[str]
    #: Words that join the two ends of a range ("to", "bis").
    range_words: frozenset[str]
    #: Words that join sizes ("45 by 30 cm").
    by_words: frozenset[str]
    #: Ordinal suffixes after digits ("1st"): not claims.
    ordinal_suffixes: frozenset[str]
    #: Fact-name words that say which dimension a number without a unit has.
    name_dimensions: dict[str, str]
    #: Phrases that contain a colour or material word but are neither.
    not_terms: frozenset[str]
    #: "yes" and "no", to render boolean facts.
    yes_no: tuple[str, str]


def _set(*lines: str) -> frozenset[str]:
    """A set of words written as lines of space-separated words."""
    return frozenset(" ".join(lines).split())


_STOP_EN = _set(
    "a an and are as at be been but by each for from had has have in into is it its more",
    "most much of off on or other others out over per so than that the their them then there",
    "these they this those times to too up upon was were what when where which while who",
    "will with without x you your less fewer",
)

# fmt: off
LANGUAGES: dict[str, Language] = {
    "en": Language(
        code="en",
        terms=_terms("en", 3),
        number_words=_NUMBER_WORDS_EN,
        weak_number_words=frozenset({"one"}),
        decimal=".",
        thousands=",",
        not_count=_STOP_EN | _set("percent x times plus or pm am"),
        not_context=_STOP_EN | _set(
            "about approx approximately around nearly almost only just least most up down",
            "all any both every is are be has have includes including contains weighs",
            "measures holds lasts offers provides comes",
        ),
        negations=_set(
            "not no non never without isn't aren't doesn't don't cannot can't nor neither",
            "nothing",
        ),
        hedges=("about", "approx", "approx.", "approximately", "around", "roughly", "nearly",
                "almost", "circa", "ca.", "~", "some", "close to"),
        comparators={
            "more than": ">", "over": ">", "above": ">", "greater than": ">",
            "at least": ">=", "minimum": ">=", "min": ">=", "min.": ">=", "a minimum of": ">=",
            "less than": "<", "under": "<", "below": "<", "fewer than": "<",
            "at most": "<=", "no more than": "<=", "maximum": "<=", "max": "<=", "max.": "<=",
            "a maximum of": "<=",
        },
        count_before=("pack of", "set of", "box of", "bag of", "case of", "bundle of",
                      "pair of", "kit of", "lot of", "package of", "includes", "with"),
        range_openers=frozenset({"between", "from"}),
        range_words=frozenset({"to", "and", "through"}),
        by_words=frozenset({"by"}),
        ordinal_suffixes=_set("st nd rd th ST ND RD TH"),
        name_dimensions={
            "weight": "mass", "weighs": "mass", "mass": "mass",
            "life": "time", "runtime": "time", "time": "time", "duration": "time",
            "standby": "time", "hours": "time", "warranty": "time",
            "length": "length", "width": "length", "height": "length", "depth": "length",
            "diameter": "length", "thickness": "length", "dimensions": "length",
            "power": "power", "wattage": "power", "voltage": "voltage", "current": "current",
            "memory": "data", "storage": "data", "ram": "data",
            "frequency": "frequency", "temperature": "temperature", "pressure": "pressure",
            "brightness": "luminous flux",
        },
        not_terms=frozenset({
            "white noise", "black friday", "blue light", "red eye", "gold standard",
            "silver lining", "best before", "black and decker", "blue tooth", "glasses",
            "eyeglasses", "irons",
        }),
        yes_no=("yes", "no"),
    ),
    "de": Language(
        code="de",
        terms=_terms("de", 4),
        number_words=_NUMBER_WORDS_DE,
        weak_number_words=_set("eins ein eine einen"),
        decimal=",",
        thousands=".",
        not_count=_set(
            "der die das den dem des ein eine und oder von vom zu zum zur mit mal in im an am",
            "auf aus bei für ist sind war als wie pro je x",
        ),
        not_context=_set(
            "der die das den dem des ein eine und oder von vom zu zum zur mit in im an am auf",
            "aus bei für ist sind war hat haben wiegt misst enthält bietet etwa ca rund",
            "ungefähr nur",
        ),
        negations=_set("nicht kein keine keinen keiner keines ohne nie niemals"),
        hedges=("etwa", "ca.", "ca", "circa", "zirka", "rund", "ungefähr", "knapp", "fast",
                "annähernd", "~"),
        comparators={
            "mehr als": ">", "über": ">", "mindestens": ">=", "min.": ">=",
            "weniger als": "<", "unter": "<", "höchstens": "<=", "maximal": "<=", "max.": "<=",
        },
        count_before=("packung mit", "set mit", "set aus", "satz von", "enthält", "mit"),
        range_openers=frozenset({"zwischen", "von"}),
        range_words=frozenset({"bis", "und"}),
        by_words=frozenset(),
        ordinal_suffixes=frozenset(),
        name_dimensions={
            "gewicht": "mass", "laufzeit": "time", "akkulaufzeit": "time", "dauer": "time",
            "länge": "length", "breite": "length", "höhe": "length", "tiefe": "length",
            "durchmesser": "length", "stärke": "length", "leistung": "power",
            "spannung": "voltage", "speicher": "data", "temperatur": "temperature",
            "druck": "pressure", "garantie": "time",
        },
        not_terms=frozenset({"schwarzer freitag", "blaues licht"}),
        yes_no=("ja", "nein"),
    ),
}
# fmt: on


def language_for(code: str) -> Language:
    """The vocabulary for a language code ("de", "de-AT", "de_CH"); English when unknown."""
    base = (code or "en").replace("_", "-").split("-", 1)[0].lower()
    return LANGUAGES.get(base, LANGUAGES["en"])

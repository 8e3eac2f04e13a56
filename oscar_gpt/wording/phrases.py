"""The phrases the wording check flags, one list per kind and language.

Each entry is a regular expression matched case-insensitively, as a whole word or phrase,
against the text with accents, curly apostrophes and Unicode hyphens folded away (so
"revolutionnaire" and "Révolutionnaire", "world’s" and "world's" read the same). Inside an
entry, a space means any run of white space, a hyphen means an optional hyphen or space
("anti-aging" matches "anti aging" and "antiaging"), ``@cond`` is any of the language's
health conditions and ``@gap`` up to two words and an elided article ("treats stubborn
acne", "soigne l'acné"). A character class in an entry holds no space and no hyphen, so
that those rewrites are safe.

``allowed`` lists the everyday phrases that contain a flagged word without making the claim
("best before", "at best", "am besten", "sous garantie"); a flag that falls inside one is
dropped. They silence the built-in kinds only, never a shop's own banned words.

Decisions, so a reviewer knows what to expect:

- "best-selling", "bestseller", "top-rated" and "award-winning" are flagged: the model writing
  the copy cannot know the shop's sales, ratings or awards. Shops that can back them add the
  phrase to ``ALLOWED``.
- "perfect" is flagged everywhere, "perfect for picnics" and "fits perfectly" included: it is
  the most common empty superlative in generated copy.
- "guarantee" the noun ("2-year guarantee", "la garantie") is a warranty fact for the claims
  check, not a wording problem; "guaranteed" and "we guarantee" are flagged.
- "the most ..." is flagged ("the most comfortable"), except "make the most of", "at the most",
  "the most recent", "the most common" and "the most important". German has no cheap way to
  tell a superlative ("am bequemsten") from a date ("am ersten"), so only listed words count.
- A superlative after a negation in the same clause ("not the best", "nicht die beste", "n'est
  pas le meilleur") is skipped, unless the negation says "not only". Health claims are flagged
  whatever negation comes before: "not clinically proven" still talks about clinical proof,
  and "non-toxic" is a negation itself.
- "treats", "prevents", "soulage", "gegen" only count before a condition ("treats acne",
  "gegen Schmerzen"), so "dog treats" and "protects against scratches" are clean. "cures" is
  flagged except when resin or glue cures ("cures in 24 hours"); "cured ham" is never flagged.
- Gendered wording: German "für Sie" and French "pour elle" / "pour lui" are left alone,
  because "Sie" is also the polite "you" and "elle"/"lui" stand for any noun ("la montre ...
  conçue pour elle"); "cadeau pour elle" is flagged.
"""

from __future__ import annotations

from typing import NamedTuple


class Wording(NamedTuple):
    """What the wording check looks for in one language."""

    code: str
    superlative: tuple[str, ...]
    health: tuple[str, ...]
    gendered: tuple[str, ...]
    #: What ``@cond`` stands for: diseases, symptoms, ailments.
    conditions: tuple[str, ...]
    #: Phrases that contain a flagged word but make no claim.
    allowed: tuple[str, ...]
    #: Words that, before a superlative in the same clause, take the claim back.
    negations: frozenset[str]
    #: Words that, right after a negation, keep the claim ("not only the best").
    not_negations: frozenset[str]


# fmt: off
ENGLISH = Wording(
    code="en",
    superlative=(
        "best", "world's (?:best|first|finest|leading|greatest|only)",
        "number (?:one|1)", r"no\.\s*1(?!\d)", r"#\s*1(?!\d)",
        r"(?:the )?(?:best|top|#1)-(?:selling|seller|rated)", "bestsell(?:er|ers|ing)",
        "top-rated", "award-winning", "(?:the )?most popular",
        "unbeatable", "unbeaten", "unrivall?ed", "unmatched", "unparall?eled", "unsurpassed",
        "unequall?ed", "incomparable", "second to none", "like no other", "one of a kind",
        "in a (?:class|league) of (?:its|their) own", "(?:you will|you'll|you) ever need",
        "perfect", "perfectly", "perfection", "flawless", "flawlessly",
        "revolutionary", "revolutioni(?:s|z)e(?:s|d)?",
        "game-chang(?:er|ing)", "guaranteed", "guarantees", "(?:we|i) guarantee",
        "ultimate", "the most \\w+",
        "the (?:finest|greatest|strongest|fastest|lightest|thinnest|quietest|brightest|safest"
        "|softest|toughest|cheapest|smartest)",
        "finest", "greatest",
        "best-in-class", "world-class", "world-leading", "industry-leading", "market-leading",
        "class-leading",
        "better than (?:any|all|every|the rest|the competition)\\w*",
        "(?:outperforms|outperform|beats|beat) (?:any|all|every)\\w*",
        "nothing (?:beats|compares)", "scientifically proven", "miracle", "miraculous",
    ),
    health=(
        "cure", "cures", "cure-all", "heal", "heals", "healing", "healed",
        "(?:treat|treats|treated|treating|treatment for|treatment of) @gap@cond",
        "(?:prevent|prevents|preventing|prevention of) @gap@cond",
        "(?:relieve|relieves|relieving|relief from|relief for|relief of) @gap@cond",
        "(?:fight|fights|fighting|combat|combats|combating|ease|eases|easing|soothe|soothes"
        "|soothing|reduce|reduces|reducing|alleviate|alleviates|protect against"
        "|protects against|protection against|helps with|help with) @gap@cond",
        "pain relief", "pain-relieving", "reduces? the risk of",
        "(?:lower|lowers|lowering) (?:your )?(?:blood pressure|cholesterol|blood sugar)",
        "clinically (?:proven|tested|shown|approved|studied)",
        "dermatologically (?:tested|approved)", "dermatologist-(?:tested|approved|recommended)",
        "doctor-(?:recommended|approved)", "recommended by doctors",
        "medical-grade", "hospital-grade", "pharmaceutical-grade", "fda-(?:approved|cleared)",
        "hypoallergenic", "non-toxic", "nontoxic", "toxin-free", "chemical-free",
        r"100\s*% safe", "(?:completely|totally|entirely|absolutely|perfectly) (?:safe|harmless)",
        "(?:safe|harmless) for (?:your )?(?:babies|baby|infants|newborns|children|kids|toddlers"
        "|pets|everyone|sensitive skin|the whole family)",
        "(?:baby|child|kid|pet|skin|food)-safe",
        "(?:boost|boosts|boosting|strengthen|strengthens) (?:the |your )?(?:immunity"
        "|immune system|metabolism)",
        "immune-boosting", "immunity booster",
        "detox", "detoxes", "detoxing", "detoxify", "detoxifies", "detoxifying", "detoxification",
        "anti-ag(?:e|ing|eing)", "anti-wrinkle", "anti-inflammatory", "antibacterial",
        "antimicrobial", "antiviral", "antifungal",
        r"kills (?:99(?:\.9+)?\s*% of )?(?:all )?(?:germs|bacteria|viruses|microbes)",
        "(?:burns|burn) fat", "fat-burning",
        "(?:promotes|causes|aids|supports|guarantees) (?:rapid |fast )?weight loss",
        "lose weight fast", "therapeutic", "medicinal",
    ),
    gendered=(
        "for (?:the )?(?:men|women|him|her|ladies|gentlemen|guys|gals|boys|girls)",
        "men's", "women's", "mens", "womens", "ladies", "ladies'", "lady's", "gentlemen's",
        "gents", "manly", "girly", "girlie", "girlish", "boyish", "masculine", "feminine",
        "macho", "his (?:and|&) hers", "his-and-hers", "him (?:and|or) her",
    ),
    conditions=(
        "cancers?", "tumou?rs?", "diabetes", "arthritis", "asthma", "eczema", "psoriasis",
        "acne", "rosacea", "dermatitis", "allergy", "allergies", "infections?", "diseases?",
        "illness(?:es)?", "inflammation", "pain", "aches", "headaches?", "migraines?", "insomnia",
        "anxiety", "depression", "colds", "common cold", "flu", "covid(?:-19)?", "viruses",
        "hair loss", "cellulite", "varicose veins", "hypertension", "high blood pressure",
        "cholesterol", "dementia", "alzheimer's", "heart disease", "obesity", "osteoporosis",
        "symptoms", "disorders?", "ailments?", "nausea",
    ),
    allowed=(
        "best-before", "best before", "best by", "at best",
        "at (?:its|their|his|her|your|our) best",
        "(?:look|looks|looking|feel|feels|feeling|keep|keeps|keeping) (?:its|their|your|his"
        "|her|our) best",
        "(?:do|does|did|doing|try|tries|tried|trying) (?:your|their|our|its|his|her) best",
        "best regards", "best wishes", "all the best", "best of luck", "best practices?",
        "(?:for )?best results", "works best", "work best", "best suited", "best used",
        "best served", "best enjoyed", "best stored", "best kept", "best friends?",
        "(?:the )?best way to", "(?:it is|it's|is) best to",
        "the most (?:out )?of", "at the most",
        "for the most part", "the most (?:recent|common|important|part)",
        "self-healing", "heals? (?:itself|themselves)",
        "cures? (?:in|within|overnight|fully|completely|at|under|hard|clear|quickly|fast)",
        "(?:uv|full) cure", "cure time",
    ),
    negations=frozenset({"not", "never", "no", "nor", "hardly", "cannot"}),
    not_negations=frozenset({"only", "just", "merely", "simply"}),
)

GERMAN = Wording(
    code="de",
    superlative=(
        "(?:der|die|das|den|dem) beste[nmrs]?", "beste", "besten", "bester", "bestes",
        "bestem", "allerbeste\\w*",
        "weltbeste\\w*", "weltweit (?:erste|einzige|beste)\\w*",
        "nummer (?:1|eins)", r"nr\.\s*1(?!\d)", r"no\.\s*1(?!\d)", r"#\s*1(?!\d)",
        "bestseller\\w*", "meistverkauft\\w*", "testsieger\\w*", "preisgekrönt\\w*",
        "unschlagbar\\w*", "perfekt\\w*", "garantiert", "garantierte[nmrs]?",
        "revolutionär\\w*", "revolutionier\\w*", "einzigartig\\w*", "unübertroffen\\w*",
        "unvergleichlich\\w*", "konkurrenzlos\\w*", "unerreicht\\w*", "ohnegleichen",
        "ultimativ\\w*", "makellos\\w*", "erstklassig\\w*",
        "marktführend\\w*", "branchenführend\\w*", "weltführend\\w*",
        "besser als (?:alle|jede|jeder|jedes|jeden|andere)\\w*",
        "wissenschaftlich (?:bewiesen|erwiesen|belegt)\\w*", "wunderwaffe",
    ),
    health=(
        "heilt", "heilen", "heilend\\w*", "heilung", "heilmittel", "heilkraft\\w*",
        "heilwirkung",
        "(?:behandelt|behandeln|behandlung von|behandlung bei|lindert|lindern|linderung von"
        "|linderung bei|bekämpft|bekämpfen|verhindert|verhindern|hilft gegen|helfen gegen"
        "|hilft bei|helfen bei|wirkt gegen|wirken gegen|schützt vor|schützen vor|gegen"
        "|reduziert|reduzieren) @gap@cond",
        "(?:beugt|beugen) @gap@cond vor", "vorbeugend gegen @gap@cond",
        "schmerzlindernd\\w*", "entzündungshemmend\\w*",
        "klinisch (?:getestet|geprüft|bewiesen|erwiesen|nachgewiesen|belegt)\\w*",
        "dermatologisch (?:getestet|geprüft|bestätigt)\\w*",
        "ärztlich (?:empfohlen|getestet|geprüft)\\w*", "von ärzten empfohlen",
        "(?:in )?medizinische[nmrs]? qualität", "medical-grade",
        "medizinisch (?:getestet|geprüft|zugelassen|wirksam)\\w*",
        "hypoallergen\\w*", "ungiftig\\w*", "nicht giftig\\w*", "giftfrei\\w*",
        "schadstofffrei\\w*", "frei von schadstoffen", "chemiefrei\\w*",
        r"100\s*% (?:sicher|unbedenklich)",
        "(?:völlig|absolut|komplett|garantiert|vollkommen|total) (?:sicher|unbedenklich"
        "|ungefährlich)",
        "(?:sicher|unbedenklich|ungefährlich) für (?:babys|säuglinge|kinder|kleinkinder"
        "|haustiere|allergiker|empfindliche haut)",
        "babysicher\\w*",
        "(?:stärkt|stärken|stärkend) (?:das |ihr |dein |die |ihre |deine )?(?:immunsystem"
        "|abwehrkräfte|immunabwehr)",
        "immunsystem stärk\\w*", "immunstärkend\\w*",
        "entgiftet", "entgiften", "entgiftend\\w*", "entgiftung", "detox\\w*",
        "anti-aging", "anti-falten", "antibakteriell\\w*", "antimikrobiell\\w*",
        "antiviral\\w*",
        r"tötet (?:99(?:[.,]9+)?\s*% (?:aller |der )?)?(?:keime|bakterien|viren)",
        "fettverbrenn\\w*",
    ),
    gendered=(
        "für (?:die |den )?(?:dame|damen|herren|herrn|frau|frauen|mann|männer|mädchen|jungen"
        "|jungs|ihn)",
        "damen\\w*", "herren\\w*", "männlich\\w*", "weiblich\\w*", "feminin\\w*",
        "maskulin\\w*", "mädchenhaft\\w*", "jungenhaft\\w*", "girly",
    ),
    conditions=(
        "krebs", "krebserkrankungen", "tumore?n?", "diabetes", "arthritis", "arthrose",
        "asthma", "ekzeme?n?", "neurodermitis", "schuppenflechte", "psoriasis", "akne",
        "allergien?", "infektionen?", "entzündungen?", "krankheiten?", "erkrankungen?",
        "schmerzen", "kopfschmerzen", "rückenschmerzen", "gelenkschmerzen", "migräne",
        "schlaflosigkeit", "schlafstörungen", "angstzuständen?", "depressionen?",
        "erkältungen?", "grippe", "haarausfall", "cellulite", "bluthochdruck", "cholesterin",
        "beschwerden", "symptomen?", "viren", "bakterien", "keimen?",
    ),
    allowed=(
        "am besten", "nach bestem (?:wissen|gewissen)", "zum besten geben", "das beste aus",
        "beste[nr]? (?:freund|freundin)\\w*",
        "selbstheilend\\w*",
    ),
    negations=frozenset({
        "nicht", "kein", "keine", "keinen", "keiner", "keines", "keinem", "nie", "niemals",
        "weder",
    }),
    not_negations=frozenset({"nur", "bloß", "lediglich", "allein", "einfach"}),
)

FRENCH = Wording(
    code="fr",
    superlative=(
        "(?:le|la|les|du|des|au|aux) meilleure?s?", "meilleures? ventes?",
        "numéro (?:1|un)", r"n°\s*1(?!\d)", r"no\.\s*1(?!\d)", r"#\s*1(?!\d)",
        "best-sellers?", "imbattables?", "parfaite?s?", "parfaitement", "perfection",
        "garantie?s?", "révolutionnaires?", "révolutionne\\w*", "inégalée?s?", "inégalables?",
        "sans (?:égal|égale|pareil|pareille|équivalent)", "incomparables?", "unique au monde",
        "ultimes?", "irréprochables?", "(?:le|la|les) plus \\w+", "(?:le|la|les) moins chers?",
        "(?:le|la|les) moins chères?", "leader (?:du marché|mondial)", "de classe mondiale",
        "mieux que (?:tous|toutes|les autres|n'importe)\\w*",
        "scientifiquement (?:prouvée?s?|démontrée?s?)", "miracle", "miraculeu\\w*",
    ),
    health=(
        "guérit", "guérir", "guérissent", "guérison", "guérisseu\\w*",
        "(?:soigne|soignent|soigner|traite|traitent|traiter|traitement de|traitement contre"
        "|prévient|préviennent|prévenir|prévention de|prévention des|soulage|soulagent"
        "|soulager|soulagement de|soulagement des|combat|combattent|combattre|lutte contre"
        "|luttent contre|lutter contre|contre|réduit|réduisent|apaise|apaisent|atténue"
        "|atténuent) @gap@cond",
        "cliniquement (?:prouvé|testé|démontré|éprouvé)e?s?", "testée?s? cliniquement",
        "dermatologiquement testée?s?", "testée?s? (?:sous contrôle )?dermatologique\\w*",
        "recommandée?s? par les (?:médecins|dermatologues)",
        "(?:de )?qualité médicale", "medical-grade",
        "hypoallergéniques?", "non-toxiques?", "sans (?:produits? chimiques?"
        "|substances? toxiques?)",
        r"100\s*% (?:sûr|sûre|sûrs|sûres|sans danger|sans risque)",
        "(?:totalement|complètement|absolument|parfaitement|entièrement) (?:sûr|sûre|sûrs"
        "|sûres|sans danger|sans risque|inoffensi\\w*)",
        "sans (?:aucun )?danger pour (?:les |la |le |vos |votre |bébé et )?(?:bébés?"
        "|nourrissons?|enfants?|animaux|peaux? sensibles?|toute la famille)",
        "(?:renforce|renforcent|booste|boostent|stimule|stimulent) (?:l'|le |les |vos "
        "|votre )?(?:immunité|système immunitaire|défenses immunitaires)",
        "détox\\w*", "détoxifi\\w*", "anti-âge", "anti-vieillissement", "anti-rides",
        "anti-inflammatoires?", "antibactérien\\w*", "antimicrobien\\w*", "antiviral\\w*",
        r"tue (?:99(?:[.,]9+)?\s*% (?:des )?)?(?:germes|bactéries|virus)",
        "brûle-graisses?", "thérapeutiques?", "médicinale?s?",
    ),
    gendered=(
        "pour (?:les )?(?:femmes?|hommes?|dames?|messieurs|filles|garçons|monsieur|madame)",
        "(?:idées? )?cadeaux? pour (?:elle|lui)", "lui et elle", "elle et lui",
        "femmes?", "hommes?", "féminine?s?", "masculine?s?", "virile?s?", "girly",
    ),
    conditions=(
        "cancers?", "tumeurs?", "diabète", "arthrite", "arthrose", "asthme", "eczéma",
        "psoriasis", "acné", "allergies?", "infections?", "inflammations?", "maladies?",
        "douleurs?", "maux de tête", "maux de dos", "migraines?", "insomnies?", "anxiété",
        "dépression", "rhumes?", "grippe", "chute des cheveux", "cellulite", "hypertension",
        "cholestérol", "symptômes", "virus", "bactéries", "germes",
    ),
    allowed=(
        "(?:une|la|sa|cette|notre|votre|leur|de|sous|avec|en|d') garanties?",
        "garanties? (?:\\d|de|d'|du|des|constructeur|fabricant|légale|commerciale)",
        "le plus (?:souvent|possible|tôt|vite|rapidement possible)", "au plus",
        "faire de (?:son|votre|notre) mieux",
    ),
    negations=frozenset({"pas", "jamais", "aucun", "aucune", "non", "ni", "rien"}),
    not_negations=frozenset({"seulement", "uniquement", "que", "juste", "simplement"}),
)
# fmt: on

#: Languages by their base code; a language without an entry is checked as English.
LANGUAGES: dict[str, Wording] = {wording.code: wording for wording in (ENGLISH, GERMAN, FRENCH)}


def base_language(code: str | None) -> str:
    """ "de-AT", "de_CH", "DE" -> "de"; whatever comes in, a key of :data:`LANGUAGES`."""
    base = (code or "en").replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in LANGUAGES else "en"


def wording_for(code: str | None) -> Wording:
    """The phrases for a language code; English when the language is unknown."""
    return LANGUAGES[base_language(code)]

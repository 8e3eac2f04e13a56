"""Labelled shopper texts for ``bench_pii.py``: personal data marked inline, and look-alikes.

Each case is a text with every piece of personal data marked as ``{kind:the text}``, kinds as
in :data:`oscar_gpt.privacy.KINDS`. A look-alike (:func:`alike`) holds no personal data at
all: anything found in it is a false positive, reported under its category.

All the data is invented: example.com / example.org addresses, Ofcom's drama numbers
(020 7946 0xxx, 0113 496 0xxx, 07700 900xxx, 01632 960xxx), US 555-01xx numbers, ARCEP's
fiction ranges (01 99 00 xx xx, 06 39 98 xx xx), payment-processor test cards
(4111 1111 1111 1111, 5555 5555 5555 4444, 3782 822463 10005 ...) and the IBANs printed as
examples by banks and standards (GB82 WEST 1234 5698 7654 32, DE89 3704 0044 0532 0130 00).
German, Dutch and Indian numbers are made up in the shape of real ones. Product codes and
barcodes are made up too; EANs carry a correct check digit, as real ones do.

Span conventions: a phone number includes its extension; an address runs from the flat or
house number to the postcode or town, whichever comes last; a name is the name's words only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARK_RE = re.compile(r"\{(email|phone|card|iban|address|name|url_credentials):([^{}]+)\}")
REGIONS = {"en": "GB", "de": "DE", "fr": "FR", "nl": "NL"}


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    text: str


@dataclass
class Case:
    text: str
    spans: list[Span]
    language: str = "en"
    region: str = "GB"
    names: tuple[str, ...] = ()
    #: "" for a case with personal data; the look-alike's category otherwise.
    category: str = ""
    #: "dev": written while the scrubber was built; "holdout": written afterwards, in one go,
    #: before the scrubber had seen them (see HOLDOUT below).
    split: str = "dev"
    marked: str = field(default="", repr=False)


def parse(marked: str) -> tuple[str, list[Span]]:
    """``"Call {phone:020 7946 0958}"`` -> ``("Call 020 7946 0958", [Span("phone", 5, 18)])``."""
    parts: list[str] = []
    spans: list[Span] = []
    position = 0
    length = 0
    for match in MARK_RE.finditer(marked):
        before = marked[position : match.start()]
        parts.append(before)
        length += len(before)
        value = match.group(2)
        spans.append(Span(match.group(1), length, length + len(value), value))
        parts.append(value)
        length += len(value)
        position = match.end()
    parts.append(marked[position:])
    text = "".join(parts)
    if "{" in text and MARK_RE.search(text):
        raise ValueError(f"unparsed marker in {marked!r}")
    return text, spans


CASES: list[Case] = []
_split = "dev"


def pii(marked: str, lang: str = "en", region: str | None = None, names: tuple[str, ...] = ()):
    text, spans = parse(marked)
    if not spans:
        raise ValueError(f"no marked personal data in {marked!r}: use alike()")
    CASES.append(Case(text, spans, lang, region or REGIONS[lang], names, "", _split, marked))


def alike(category: str, text: str, lang: str = "en", region: str | None = None):
    if MARK_RE.search(text):
        raise ValueError(f"a look-alike holds no personal data: {text!r}")
    CASES.append(Case(text, [], lang, region or REGIONS[lang], (), category, _split, text))


# == emails ===============================================================================
pii("Please email me at {email:jane.doe@example.com} when it is back in stock.")
pii("My address is {email:j.doe+shop@example.co.uk}, thanks")
pii("Contact: {email:JANE_DOE@Mail.Example.Org}")
pii("Reply to {email:customer.service-team@sub.mail.example.net} please.")
pii("({email:peter@example.com})")
pii("email:{email:pete99@example.com};phone unknown")
pii("Is this compatible with iPhone 15? Answer to {email:a.smith@example.org} pls")
pii("Send the invoice to {email:accounts@example-company.example} and cc {email:bob@example.com}.")
pii("You can reach me at {email:jane at example dot com} if easier")
pii("mail me: {email:jane.doe [at] example [dot] co [dot] uk}")
pii("Write to {email:tom(at)example(dot)org} – I never check spam")
pii("<{email:noreply.jane@example.com}>")
pii("Schreiben Sie mir an {email:max.mustermann@example.de}, danke!", "de")
pii("Meine E-Mail: {email:erika(at)example(punkt)de}", "de")
pii("Mon adresse e-mail est {email:jean.dupont@example.fr}.", "fr")
pii("Écrivez-moi : {email:marie arobase example point fr}", "fr")
pii("Mijn e-mailadres is {email:jan.devries@example.nl}", "nl")
pii("Stuur een mail naar {email:sanne@voorbeeld.example.nl} aub", "nl")
pii("{email:o'connor@example.ie} is my email")
pii("Email {email:user123@example.travel} re: order 100045")
pii("Can someone at {email:support@example.com} confirm the warranty?")
pii("my email is {email:JaneDoe1990@example.com}!!")

# == phones: UK ============================================================================
pii("Call me on {phone:020 7946 0958} after 5pm.")
pii("My mobile is {phone:07700 900123}, text me when it ships")
pii("Ring {phone:+44 20 7946 0321} if there is a problem")
pii("Tel: {phone:+44 (0)20 7946 0123}")
pii("phone {phone:0113 496 0555} (office hours)")
pii("Please call {phone:0161 496 0777} about my return.")
pii("You can reach me on {phone:07700900456}")
pii("My number: {phone:+447700900789}")
pii("Landline {phone:0117 496 0234}, mobile {phone:07700 900 321}")
pii("Call {phone:0800 123 4567} is that your helpline? My own is {phone:0121 496 0999}")
pii("{phone:020 7946 0000} - ask for Sam")
pii("Whatsapp me: {phone:+44 7700 900111}")
pii("contact number {phone:01632 960123}")
pii("Our office {phone:+44 20 7946 0999 ext. 204} handles returns")
pii("Call {phone:020-7946-0456} tomorrow morning")
pii("I tried calling, my number is {phone:0131 496 0111} if you could ring back.")
pii("Reach me at {phone:0044 20 7946 0582}")
pii("Daytime: {phone:0141 496 0444}. Evenings: {phone:07700 900 444}.")
pii("Rang twice. {phone:+44 113 496 0000} is the one to use")
pii("Delivery driver should call {phone:07700 900555} on arrival")

# == phones: US and international ============================================================
pii("Call me at {phone:(212) 555-0123} please", region="US")
pii("My cell is {phone:415-555-0132}", region="US")
pii("Phone: {phone:+1 202 555 0143}")
pii("Call {phone:1-800-555-0199} for the manufacturer", region="US")
pii("Text {phone:+1 (415) 555-0198} when it ships")
pii("Office {phone:212.555.0187 x204}", region="US")
pii("I'm abroad, use {phone:+1 646 555 0110}")
pii("Reach me on {phone:+91 98765 43210} (India)")
pii("Mumbai office: {phone:+91 22 2345 6789}")
pii("call {phone:+353 1 234 5678} in Dublin")
pii("Swiss number {phone:+41 44 123 45 67}")
pii("Vienna: {phone:+43 1 23456789}")
pii("Madrid {phone:+34 912 345 678}")
pii("Rome {phone:+39 06 1234 5678}")
pii("phone me on {phone:+61 2 9876 5432} (Sydney)")
pii("You can call {phone:(646) 555-0145} or {phone:(646) 555-0146}", region="US")

# == phones: German, French, Dutch =========================================================
pii("Rufen Sie mich an unter {phone:030 12345678}.", "de")
pii("Meine Handynummer: {phone:0151 23456789}", "de")
pii("Tel. {phone:+49 30 12345678}", "de")
pii("Bitte zurückrufen: {phone:089 1234567}", "de")
pii("Erreichbar unter {phone:0176/12345678}", "de")
pii("Telefon {phone:+49 (0)40 1234567}", "de")
pii("Festnetz {phone:0221 9876543}, Handy {phone:0160 98765432}", "de")
pii("Ruf an: {phone:0049 69 12345678}", "de")
pii("Bei Fragen {phone:040-1234567} anrufen", "de")
pii("Meine Nummer ist {phone:0711 1234567}.", "de")
pii("Appelez-moi au {phone:01 99 00 12 34}.", "fr")
pii("Mon portable : {phone:06 39 98 12 34}", "fr")
pii("Tél : {phone:+33 1 99 00 56 78}", "fr")
pii("Vous pouvez me joindre au {phone:06.39.98.45.67}", "fr")
pii("Numéro : {phone:+33 6 39 98 11 22}", "fr")
pii("Rappelez-moi au {phone:0199001122} svp", "fr")
pii("Bel me op {phone:06 12345678}", "nl")
pii("Mijn telefoonnummer is {phone:020 123 4567}.", "nl")
pii("Telefoon: {phone:+31 20 123 4567}", "nl")
pii("Mobiel {phone:06-12345678}", "nl")
pii("Bereikbaar op {phone:010-1234567}", "nl")
pii("Bel {phone:+31 6 1234 5678} na 18:00", "nl")

# == phones: no label word at all ============================================================
pii("{phone:07700 900876}")
pii("Jane, {phone:020 7946 0111}")
pii("Any update? {phone:+44 7700 900222}")
pii("Thanks {phone:0113 496 0333}")
pii("Ask for Sam {phone:+49 151 23456789}", "de")

# == payment cards ===========================================================================
pii("My card {card:4111 1111 1111 1111} was charged twice")
pii("Visa {card:4242 4242 4242 4242}, exp 12/28")
pii("charged to {card:5555 5555 5555 4444}")
pii("card number {card:5105-1051-0510-5100} declined, why?")
pii("Amex {card:3782 822463 10005}")
pii("I used {card:371449635398431} and it failed")
pii("Discover {card:6011 1111 1111 1117}")
pii("My Mastercard {card:2223 0031 2200 3222} was declined")
pii("Please refund to {card:4000056655665556}")
pii("Karte {card:4012 8888 8888 1881} wurde zweimal belastet", "de")
pii("Ma carte {card:5200 8282 8282 8210} a été débitée deux fois", "fr")
pii("Mijn creditcard {card:3566 0020 2036 0505} werkt niet", "nl")
pii("Diners {card:3056 9309 0259 04} ok?")
pii("Paid with {card:6011 0009 9013 9424} on Tuesday")
pii("card: {card:4000-0027-6000-3184}")
pii("{card:4111111111111111} exp 01/30 cvv 123")
pii("Can you charge {card:5555555555554444} instead of my Visa?")
pii("UnionPay {card:6200 0000 0000 0005}")

# == IBANs ===================================================================================
pii("Refund to IBAN {iban:GB82 WEST 1234 5698 7654 32} please")
pii("My IBAN: {iban:GB33BUKB20201555555555}")
pii("Bitte auf {iban:DE89 3704 0044 0532 0130 00} überweisen", "de")
pii("IBAN {iban:DE44 5001 0517 5407 3249 31}, BIC INGDDEFFXXX", "de")
pii("Remboursez sur {iban:FR14 2004 1010 0505 0001 3M02 606}", "fr")
pii("IBAN : {iban:FR7630006000011234567890189}", "fr")
pii("Mijn rekeningnummer is {iban:NL91 ABNA 0417 1643 00}", "nl")
pii("IBAN {iban:NL02ABNA0123456789}", "nl")
pii("Belgian account {iban:BE68 5390 0754 7034}")
pii("Spanish IBAN {iban:ES91 2100 0418 4502 0005 1332}")
pii("{iban:IT60 X054 2811 1010 0000 0123 456}")
pii("Swiss: {iban:CH93 0076 2011 6238 5295 7}")
pii("Österreich {iban:AT61 1904 3002 3457 3201}", "de")
pii("refund {iban:IE29 AIBK 9311 5212 3456 78}")
pii("iban {iban:gb82west12345698765432} (lower case, sorry)")
pii("{iban:LU28 0019 4006 4475 0000} please")
pii("{iban:PL61 1090 1014 0000 0712 1981 2874}")
pii("Danish {iban:DK50 0040 0440 1162 43}")
pii("{iban:SE45 5000 0000 0583 9825 7466}")
pii("{iban:NO93 8601 1117 947}")

# == URL credentials ========================================================================
pii("The feed is at https://{url_credentials:shopadmin:s3cr3t!}@feeds.example.com/products.xml")
pii("ftp://{url_credentials:jane:hunter2}@files.example.org/upload")
pii("Use http://{url_credentials:api:0a1b2c3d4e}@api.example.net/v1 for stock")

# == addresses: UK =========================================================================
pii("Please deliver to {address:221B Baker Street, London NW1 6XE}.")
pii("My address is {address:10 Downing St, London SW1A 2AA}")
pii("I live at {address:12 Acacia Avenue}, the blue door")
pii("Send it to {address:Flat 3, 45 Kings Road, Brighton BN1 1AA}")
pii("Ship to {address:4 Privet Drive, Little Whinging}")
pii("{address:27 Old Gloucester Street, London WC1N 3AX}")
pii("Delivered to {address:8 Station Road} by mistake")
pii("postcode {address:M1 1AE}, is delivery free?")
pii("Do you deliver to {address:EH1 1YZ}?")
pii("My postcode is {address:CF10 1AA}")
pii("It went to {address:14 High Street, Oxford OX1 4AA} instead of my house")
pii("Address: {address:2 Park Lane, Leeds LS1 2AB}")
pii("leave at {address:99 Church Lane}, behind the gate")
pii("{address:56 Queen's Road, Bristol BS8 1QU}")
pii("I moved to {address:3 Mill Close, Norwich NR1 3AB} last month")
pii("Return label for {address:15 Victoria Rd, Glasgow G1 1AA}")
pii("send to {address:Unit 7, 12 Riverside Way, Cardiff CF10 4XX}")

# == addresses: US =========================================================================
pii("Ship to {address:1600 Pennsylvania Avenue NW, Washington, DC 20500}", region="US")
pii("My address: {address:350 Fifth Avenue, New York, NY 10118}", region="US")
pii("{address:742 Evergreen Terrace, Springfield}", region="US")
pii("Deliver to {address:123 Main St, Springfield, IL 62704-1234}", region="US")
pii("I'm in {address:Austin, TX 78701}", region="US")
pii("zip {address:90210}, do you ship there?", region="US")
pii("Can you ship to {address:55 Oak Drive, Portland, OR 97201}?", region="US")
pii("Address is {address:1 Infinite Loop, Cupertino, CA 95014}", region="US")
pii("ZIP code: {address:10001-0001}", region="US")

# == addresses: German, French, Dutch =======================================================
pii("Meine Adresse: {address:Hauptstraße 5, 10115 Berlin}", "de")
pii("Bitte an {address:Musterweg 12a} liefern", "de")
pii("Ich wohne in der {address:Goethestr. 14, 80331 München}", "de")
pii("Lieferadresse: {address:Berliner Allee 3, 40212 Düsseldorf}", "de")
pii("{address:Am Markt 3, 28195 Bremen}", "de")
pii("Schicken Sie es an {address:Lindenstraße 42}, bitte klingeln", "de")
pii("Wohne in {address:60311 Frankfurt am Main}", "de")
pii("Anschrift {address:Schillerplatz 1, 70173 Stuttgart}", "de")
pii("Paket bitte an {address:Kölner Straße 7, 50667 Köln}", "de")
pii("Mein Paket ging an {address:Bahnhofstraße 12} statt an mich", "de")
pii("Livrez au {address:12 rue de la Paix, 75002 Paris}", "fr")
pii("J'habite {address:8 avenue des Champs-Élysées}", "fr")
pii("Adresse : {address:3 bis boulevard Haussmann, 75009 Paris}", "fr")
pii("Envoyer à {address:5 place Bellecour, 69002 Lyon}", "fr")
pii("Livraison au {address:Rue de la Loi 16, 1000 Bruxelles}", "fr")
pii("mon adresse : {address:27 chemin des Vignes, 13100 Aix-en-Provence}", "fr")
pii("Mon code postal est {address:33000 Bordeaux}", "fr")
pii("Mijn adres is {address:Keizersgracht 123, 1015 CJ Amsterdam}", "nl")
pii("Bezorgen op {address:Dorpsstraat 1}", "nl")
pii("Adres: {address:Stationsplein 5, 3511 ED Utrecht}", "nl")
pii("Ik woon op {address:Kerkweg 12} in Zwolle", "nl")
pii("Stuur het naar {address:Herengracht 500, 1017 CB Amsterdam}", "nl")
pii("{address:Lange Laan 7, 2011 AB Haarlem}", "nl")

# == names ===================================================================================
pii("Hi, this is {name:Jane Doe}, I ordered the blue one", names=("Jane Doe",))
pii("Thanks, {name:Jane}", names=("Jane Doe",))
pii("{name:DOE} family order - can we change it?", names=("Jane Doe",))
pii("My name is {name:Peter Parker} and I want to return this")
pii("I'm {name:Sarah}, I bought this last week")
pii("Hello, I am {name:Ahmed Khan}. Does it fit a 2019 Golf?")
pii("my name is {name:Li Wei} and the box was damaged")
pii("Ich heiße {name:Jana Schmidt} und habe eine Frage", "de")
pii("Mein Name ist {name:Lukas Meyer}.", "de")
pii("Je m'appelle {name:Jeanne Dupont}, le colis est abîmé", "fr")
pii("Bonjour, je m'appelle {name:Luc}", "fr")
pii("Mijn naam is {name:Jan de Vries}", "nl")
pii("Hoi, ik heet {name:Sanne}", "nl")
pii("Regards, {name:Mark Taylor}", names=("Mark Taylor",))
pii("Sent by {name:jane doe} from my phone", names=("Jane Doe",))
pii("{name:Ólafur} here – does it ship to Iceland?", names=("Ólafur Arnalds",))
pii("I'm {name:Anna van der Berg} and I'd like a refund")
pii("Order for {name:Smith}, {name:John}", names=("John Smith",))
pii("my name's {name:Tom} and it broke after a week")
pii("Hi I'm {name:Priya}, does this come in green?")
pii("{name:Jean-Luc Picard} here, is it warp-capable?", names=("Jean-Luc Picard",))
pii("Je suis {name:Claire} et je m'appelle {name:Claire Martin}", "fr")

# == several kinds in one text =========================================================
pii(
    "I'm {name:Jane Doe}, call {phone:020 7946 0958} or email {email:jane@example.com}.",
    names=("Jane Doe",),
)
pii(
    "Refund {card:4111 1111 1111 1111} or {iban:GB82 WEST 1234 5698 7654 32}, "
    "I live at {address:221B Baker Street, London NW1 6XE}"
)
pii(
    "Ich heiße {name:Erika Mustermann}, {address:Heidestraße 17, 51147 Köln}, "
    "Tel. {phone:0221 1234567}",
    "de",
)
pii("{name:Marie} – {email:marie@example.fr} – {phone:06 39 98 77 66}", "fr", names=("Marie",))
pii(
    "Naam: {name:Pieter Jansen}, {address:Prinsengracht 263, 1016 GV Amsterdam}, "
    "{phone:06 98765432}",
    "nl",
    names=("Pieter Jansen",),
)
pii(
    "Order 100023456 for {name:Jane Doe}: ship to {address:8 Station Road, Reading RG1 1AA}, "
    "contact {phone:07700 900 999}",
    names=("Jane Doe",),
)
pii("Bought the WH-1000XM5 for £299.00, my number is {phone:07700 900 888}")
pii("EAN 5012345678900 arrived broken, call {phone:0113 496 0012}")
pii("SKU 8801643123456, card {card:5555 5555 5555 4444}, exp 09/27")
pii("1920 x 1080 monitor, delivered to {address:27 Old Gloucester Street, London WC1N 3AX}")
pii("Bestellung 4711, IBAN {iban:DE89 3704 0044 0532 0130 00}, Tel {phone:030 98765432}", "de")
pii("Commande n° 123456, tél {phone:01 99 00 98 76}, {email:paul@example.fr}", "fr")
pii("Bestelling 20230045 – bel {phone:+31 20 765 4321} of mail {email:kees@example.nl}", "nl")
pii("Price £1,299.00, order no. 100023456, questions to {email:q@example.com}")
pii("My old address {address:9 Elm Grove, York YO1 7AA} and new one {address:12 Ash Road}")
pii("call {phone:+44 20 7946 0111} or {phone:+44 20 7946 0112}")
pii("{email:a@example.com}, {email:b@example.com}, {email:c@example.com}")
pii("Visa ending 1111 – full number {card:4111 1111 1111 1111}")
pii("Bluetooth 5.3 pairing fails; reach me on {phone:07700 900 246}")
pii("Sizes 36 38 40 – mine is 38. {email:size38@example.com}")

# == longer texts ======================================================================
pii(
    """Hello,

I ordered the Sony WH-1000XM5 (order #100045678) on 12/05/2024 for £279.99 and it
has not arrived. Tracking says delivered to {address:14 Willow Close, Ipswich IP1 2AB} but
that is my neighbour. Please call me on {phone:07700 900 135} or email
{email:jane.doe@example.com}.

Thanks,
{name:Jane Doe}""",
    names=("Jane Doe",),
)
pii(
    """Guten Tag,

meine Bestellung Nr. 4711-2024 (EAN 4006381333931, 49,99 €) ist beschädigt angekommen.
Bitte erstatten Sie den Betrag auf {iban:DE44 5001 0517 5407 3249 31}.
Sie erreichen mich unter {phone:0170 1234567}.

Mit freundlichen Grüßen
{name:Klaus Fischer}""",
    "de",
    names=("Klaus Fischer",),
)
pii(
    """Bonjour, j'ai commandé le modèle RTX 4070 à 649,00 € (commande 2024-000123).
Merci de me rappeler au {phone:06 39 98 24 68}. Adresse de livraison :
{address:18 rue Victor Hugo, 69002 Lyon}. Cordialement, {name:Sophie Bernard}""",
    "fr",
    names=("Sophie Bernard",),
)
pii(
    """Hallo, ik heb bestelling 20240567 ontvangen maar de maat (42) klopt niet.
Mijn adres: {address:Kerkstraat 10, 3581 RA Utrecht}. Bel gerust: {phone:06 11223344}.
Groet, {name:Daan}""",
    "nl",
    names=("Daan Visser",),
)
pii("""Review: Great 2-in-1 laptop, 16 GB RAM, 1920 x 1080 screen, 10 hour battery.
Bought for £899. If you have questions ask me at {email:reviewer42@example.org}.""")
pii("""Q: Does the 65" model fit a 1.5 m wide stand?
Sorry, unrelated: my card {card:4242 4242 4242 4242} was billed twice, ref 884512.""")

# == more emails, phones and cards in running text =======================================
pii("I already wrote to {email:service@example.com} twice")
pii("Sent from {email:jdoe@example.co.uk} on my iPhone")
pii("Please don't share {email:private.person@example.net} with anyone")
pii("cc {email:mum@example.com} on the reply")
pii("PayPal account is {email:buyer.account@example.com}")
pii("Kontakt: {email:info@beispiel.example.de}", "de")
pii("Bitte antworten an {email:anna-lena.schulz@example.de}.", "de")
pii("Contactez {email:service.client@exemple.example.fr} svp", "fr")
pii("mail: {email:pieter@example.nl}", "nl")
pii("Text me on {phone:07700 900 777} once dispatched")
pii("Mobile: {phone:+44 7700 900 666}")
pii("I'm on {phone:0118 496 0888} weekdays")
pii("call back {phone:020 7946 0765}")
pii("Handy: {phone:+49 171 2345678}", "de")
pii("Tel {phone:06 39 98 55 44}", "fr")
pii("tel. {phone:070 123 4567}", "nl")
pii("Card ending in 4444? No, full: {card:5555 5555 5555 4444}")
pii("Use {card:378282246310005} for the balance")
pii("Refund {card:4111-1111-1111-1111} not my debit card")
pii("IBAN {iban:GB33 BUKB 2020 1555 5555 55} please, not the card")
pii("Rekening {iban:NL91ABNA0417164300}", "nl")
pii("Konto {iban:DE89370400440532013000}", "de")
pii("Ship to {address:77 Harbour Road, Poole BH15 1AA} tomorrow")
pii("parcel for {address:6 Market Street, Wigan WN1 1AA}")
pii("Lieferung an {address:Rosenweg 4, 01067 Dresden}", "de")
pii("Adresse {address:4 rue du Moulin, 44000 Nantes}", "fr")
pii("Woon op {address:Marktplein 3, 2611 GR Delft}", "nl")
pii("Hi, {name:Jane} here. Is the red one in stock?", names=("Jane Doe",))
pii("I am {name:Oliver Twist}, please cancel")
pii("Guten Tag, ich heiße {name:Müller}", "de")
pii("My name is {name:Chloé O'Brien}")

# =========================================================================================
# Look-alikes: no personal data in any of these.
# =========================================================================================

# -- SKUs, part numbers, model numbers --------------------------------------------------
alike("sku", "SKU 8801643123456")
alike("sku", "SKU: 100023456789")
alike("sku", "Item no. 4006381333")
alike("sku", "Part number 07700900123 fits the 2019 model")
alike("sku", "Artikelnummer 030123456789", "de")
alike("sku", "Référence 0612345678", "fr")
alike("sku", "Artikelnr. 0612345678", "nl")
alike("sku", "MPN: 4111111111111111")
alike("sku", "SKU 5555-5555-5555-4444")
alike("sku", "ASIN B07XJ8C8F5 and SKU 2125550100")
alike("sku", "Product code 020 7946 0958 in the catalogue")
alike("sku", "Model 5551234567")
alike("model", "Sony WH-1000XM5 headphones")
alike("model", "NVIDIA RTX 4070 Ti Super 16 GB")
alike("model", "Samsung QE65QN90C 65 inch")
alike("model", "Bosch WAN28281GB washing machine")
alike("model", "Canon EOS R5, RF 24-105mm f/4")
alike("model", "iPhone 15 Pro Max 256 GB")
alike("model", "Dyson V15 Detect, model SV22")
alike("model", "Miele G 7310 SC Geschirrspüler", "de")
alike("model", "BMW 3 Series 320d")
alike("model", "Galaxy S23 Ultra SM-S918B")
alike("model", "Intel Core i7-13700K 3.4 GHz")
alike("model", "HP LaserJet Pro M404dn")
alike("model", "Lego 42115 Lamborghini Sián")
alike("model", "Nikon Z 6II, AF-S 50 mm 1:1.8G")

# -- barcodes ---------------------------------------------------------------------------
alike("barcode", "EAN 4006381333931")
alike("barcode", "EAN-13: 5012345678900")
alike("barcode", "UPC 012345678905")
alike("barcode", "GTIN 00012345678905")
alike("barcode", "ISBN 978-3-16-148410-0")
alike("barcode", "ISBN 0-306-40615-2")
alike("barcode", "barcode 8712345678906 on the box")
alike("barcode", "EAN 4 006381 333931", "de")
alike("barcode", "Code EAN : 3760123456789", "fr")
alike("barcode", "EAN-code 8710103974574", "nl")
alike("barcode", "The barcode reads 4012345678901")
alike("barcode", "IMEI 35 209900 176148 1")
alike("barcode", "serial SN 4111111111111")

# -- prices -----------------------------------------------------------------------------
alike("price", "Now only £1,299.00, was £1,499.00")
alike("price", "Preis: 1.299,00 €", "de")
alike("price", "Prix : 1 299,00 €", "fr")
alike("price", "Prijs € 1.299,-", "nl")
alike("price", "$1,299.99 or 4 payments of $324.99")
alike("price", "EUR 12.499,00 inkl. MwSt.", "de")
alike("price", "£12,499,000 property", "en")
alike("price", "Total: 2,345,678.90 USD")
alike("price", "Costs 129900 pence")
alike("price", "CHF 1'299.00")
alike("price", "₹ 1,29,999 in India")
alike("price", "from £7.99/month or £79.99/year")
alike("price", "Sale: 30% off, now 699,00 € statt 999,00 €", "de")
alike("price", "19,99 € + 4,95 € Versand", "de")
alike("price", "Was 1 499 € maintenant 1 199 €", "fr")
alike("price", "Van € 2.499 voor € 1.999", "nl")

# -- order, invoice, tracking numbers -----------------------------------------------------
alike("order", "order 100023456 has not arrived")
alike("order", "Order #20240512-0042")
alike("order", "My order number is 0207946095 and it is late")
alike("order", "Invoice 07700900123")
alike("order", "Tracking number 1Z999AA10123456784")
alike("order", "tracking: 00340434161234567890")
alike("order", "Bestellnummer 4711-0815-2024", "de")
alike("order", "Sendungsnummer 00340434161234567890", "de")
alike("order", "Bestellung Nr. 0301234567", "de")
alike("order", "Numéro de commande : 0612345678", "fr")
alike("order", "Commande 2024-000123", "fr")
alike("order", "Bestelnummer 0612345678", "nl")
alike("order", "Ordernummer 20240567", "nl")
alike("order", "RMA 020 7946 0958 issued")
alike("order", "Ref: 4111 1111 1111 1111")

# -- dimensions, quantities ---------------------------------------------------------------
alike("dimension", "1920 x 1080 pixels")
alike("dimension", "3840×2160 at 120 Hz")
alike("dimension", "Size: 200 x 140 x 45 cm")
alike("dimension", "Maße 120 x 60 x 75 cm", "de")
alike("dimension", "Dimensions : 30 x 20 x 10 cm", "fr")
alike("dimension", "5000 mAh battery, 65 W charging")
alike("dimension", "Capacity 20000 mAh")
alike("dimension", "2 x 1000 W, 230 V")
alike("dimension", "Speicherplatz 256 GB, 8 GB RAM", "de")
alike("dimension", "10000 Bewertungen, 4,5 Sterne", "de")
alike("dimension", "1200 rpm, 8 kg drum")
alike("dimension", "Resolution 7680 x 4320")
alike("dimension", "Pack of 12, 24 or 48")
alike("dimension", "sizes 36 38 40 42 44 46")

# -- dates, times, versions ----------------------------------------------------------------
alike("date", "Delivered on 12/05/2024 at 10:30")
alike("date", "Lieferung am 12.05.2024", "de")
alike("date", "Best before 2025-03-14")
alike("date", "Released 2019 2020 2021 2022")
alike("date", "Livré le 14/03/2025 à 14h30", "fr")
alike("date", "Opening hours 09:00-17:30, Mon-Fri")
alike("date", "Guarantee until 31.12.2027", "de")
alike("date", "Geleverd op 03-04-2024 om 15:45", "nl")
alike("version", "Bluetooth 5.3, Wi-Fi 6E")
alike("version", "Firmware 2.1.0.4563 update")
alike("version", "Android 14, One UI 6.1")
alike("version", "USB 3.2 Gen 2x2, HDMI 2.1")
alike("version", "version 10.0.19045.3803")

# -- product texts that look like addresses or names ---------------------------------------
alike("product", "3 Series BMW brochure")
alike("product", "5 Street Fighter figures")
alike("product", "2-in-1 laptop with stylus")
alike("product", "Top 10 Best Road Bikes 2024")
alike("product", "2 Way Radio walkie talkie")
alike("product", "1 TB Solid State Drive")
alike("product", "The 1969 Abbey Road LP, remastered")
alike("product", "Route 66 sign, 24/7 support")
alike("product", "4 Player Park Games set")
alike("product", "Harry Potter 7 Book Set")
alike("product", "Pack of 3 Oak Lane candles")
alike("product", "12 Days of Christmas Advent Calendar")
alike("product", "Jack Wolfskin jacket, Marshall speaker, Philips Hue")
alike("product", "Speaker for 10000 Customers, 25000 Units sold")
alike("product", "1080 HD Monitor 24 inch")
alike("product", "Adapter 230 V, 5000 Stück auf Lager", "de")
alike("product", "Fits 2018 Golf GTI and 2020 Polo")
alike("product", "Nike Air Max 90, size UK 9")
alike("product", "H2 2GB module, A4 paper")
alike("phrase", "I'm English and this plug doesn't fit")
alike("phrase", "I'm Not sure this fits")
alike("phrase", "I am Very happy with it")
alike("phrase", "I'm Looking for a case")
alike("phrase", "I looked at this dot matrix printer")
alike("phrase", "Available at Argos dot com soon")
alike("phrase", "Ich bin Anfänger und suche ein Einsteigermodell", "de")
alike("phrase", "Je suis Français et ce modèle est top", "fr")
alike("phrase", "Ik ben Nederlander", "nl")

# =========================================================================================
# HOLDOUT: written in one go after the scrubber passed the cases above, and run once before
# any change to the scrubber. Harder formats on purpose (house names, "N Main St", dotted
# cards, "jane at example.com"). First run: recall 73/82 (89.0%), precision 95.3%, 3 of 43
# look-alikes flagged ("Ordernr. 0612345678", "I am Hungry for more", "2 Mill Lane mugs").
# The scrubber was then fixed with general rules, so these no longer measure unseen text.
# =========================================================================================
_split = "holdout"

pii("Jane Doe <{email:jane.doe@example.com}>")
pii("mailto:{email:support.team@example.org}")
pii("EMAIL: {email:JANE.DOE@EXAMPLE.COM}")
pii("my email is {email:jane@example.com}.")
pii("reply to {email:jane at example.com} please")
pii("{email:jane [at] example.com}")
pii("Mail {email:first.last@my-company.example.co.uk} for invoices")
pii("Contact {email:sales@shop123.example.com}, not me")
pii("E-Mail an {email:j.mueller@example.de} oder anrufen", "de")
pii("courriel : {email:jean.martin@exemple.example}", "fr")
pii("Mail naar {email:info@bedrijf-voorbeeld.example.nl}", "nl")
pii("Call {phone:+44(0)7700 900123} anytime")
pii("mob {phone:07700-900-321}")
pii("Tel. {phone:(020) 7946 0958}")
pii("tel:{phone:+442079460958}")
pii("Home {phone:0113 4960 999}, ask for Pat")
pii("My number is {phone:+44 7700-900-555}")
pii("Call me {phone:+1-202-555-0173}")
pii("Cell {phone:202 555 0173}", region="US")
pii("Toll free {phone:1 (800) 555-0199}", region="US")
pii("My mobile {phone:9876543210}", region="IN")
pii("WhatsApp {phone:+91-98765-43210}")
pii("Ruf mich an: {phone:+49-30-1234567}", "de")
pii("Telefon {phone:+49 (30) 1234 5678}", "de")
pii("Tel.: {phone:030/12345678}", "de")
pii("Handy {phone:0172-1234567}", "de")
pii("Mobil: {phone:0157 12345678}", "de")
pii("Tél. {phone:+33 (0)1 99 00 12 34}", "fr")
pii("Appelez le {phone:0033 1 99 00 43 21}", "fr")
pii("Mon numéro : {phone:06 39 98 76 54}", "fr")
pii("Telefoonnummer {phone:+31 (0)20 123 4567}", "nl")
pii("Bel {phone:0031 6 1234 5678}", "nl")
pii("Tel {phone:020-1234567}", "nl")
pii("Card {card:4111.1111.1111.1111}")
pii("Charge {card:4111111111111111} not the Amex")
pii("{card:5555-5555-5555-4444} (Mastercard)")
pii("Amex {card:3782-822463-10005}")
pii("Kreditkarte {card:4242 4242 4242 4242}", "de")
pii("Numéro de carte : {card:5105 1051 0510 5100}", "fr")
pii("Creditcard {card:4000 0566 5566 5556}", "nl")
pii("Please use card {card:6011111111111117}")
pii("IBAN {iban:DE89-3704-0044-0532-0130-00}", "de")
pii("IBAN: {iban:FR76 3000 6000 0112 3456 7890 189}", "fr")
pii("iban {iban:nl91abna0417164300}", "nl")
pii("Refund {iban:GB33 BUKB 2020 1555 5555 55} thanks")
pii("Compte {iban:BE68539007547034}", "fr")
pii("{address:Flat 2/1, 10 Byres Road, Glasgow G11 5RD}")
pii("Deliver to {address:Apartment 4, 221 Baker Street, London NW1 6XE}")
pii("{address:The Old Barn, Mill Lane, Little Snoring NR21 0AA}")
pii("I live at {address:123 N Main St, Springfield, IL 62701}", region="US")
pii("Ship to {address:456 Elm Street, Apt 5, Boston, MA 02118}", region="US")
pii("Send to {address:PO Box 123, Anytown, CA 90210}", region="US")
pii("Adresse: {address:Friedrichstraße 123, 10117 Berlin}", "de")
pii("Lieferung: {address:Karl-Marx-Allee 90, 10243 Berlin}", "de")
pii("Ich wohne {address:Unter den Linden 77, 10117 Berlin}", "de")
pii("{address:Postfach 10 20 30, 10115 Berlin}", "de")
pii("Livrer au {address:12, rue des Lilas, 31000 Toulouse}", "fr")
pii("Adresse : {address:5 Rue Lafayette, 75009 Paris}", "fr")
pii("J'habite au {address:45 boulevard Saint-Michel}", "fr")
pii("Adres: {address:Oudezijds Voorburgwal 14, 1012 EJ Amsterdam}", "nl")
pii("Postadres: {address:Postbus 1234, 1000 AB Amsterdam}", "nl")
pii("Afleveradres {address:Hoofdstraat 22b, 9711 AB Groningen}", "nl")
pii("My postcode is {address:SW1A 1AA} and I'm in London")
pii("Postleitzahl {address:80331 München}", "de")
pii("Hi I'm {name:Rebecca Jones}, the zip broke")
pii("I am {name:Tomás García} from Spain")
pii("My name is {name:Zoë} and I love it")
pii("{name:Jane} – thanks!", names=("Jane Doe",))
pii("From: {name:Jane Doe}", names=("Jane Doe",))
pii("Cheers, {name:Rob}", names=("Robert Brown", "Rob"))
pii("Mein Name ist {name:Hans-Peter Krause}", "de")
pii("Je m'appelle {name:Élodie Rousseau}", "fr")
pii("Ik heet {name:Femke de Jong}", "nl")
pii("I'm {name:Jane Doe} ({email:jane@example.com}, {phone:020 7946 0444})", names=("Jane Doe",))
pii(
    """Dear team,
the Bosch WAN28281GB (order 100098765, £429.00) leaks. Engineer can call
{phone:07700 900 963} or come to {address:3 Mill Close, Norwich NR1 3AB}.
{name:Jane}""",
    names=("Jane Doe",),
)
pii(
    """Hallo,
Artikel 4711 (EAN 4006381333931) für 19,99 € kam kaputt an.
{name:Anna Schmidt}, {address:Rosenweg 4, 01067 Dresden}, Tel. {phone:0351 1234567}""",
    "de",
    names=("Anna Schmidt",),
)

alike("sku", "SKU# 00012345")
alike("sku", "Art.-Nr. 123456789", "de")
alike("sku", "Modellnummer: 0151234567", "de")
alike("sku", "Model number: 07700900123")
alike("sku", "Part no 0207946095801")
alike("sku", "Référence produit 0199001234", "fr")
alike("price", "£ 1 299")
alike("price", "1.299,- €", "de")
alike("price", "$ 2,499 each")
alike("price", "1299 EUR incl. VAT")
alike("price", "USD 1,299.00")
alike("price", "ab 0,99 € pro Monat", "de")
alike("price", "€1.299,00 or 1,299.00€")
alike("price", "Prix 1299€ TTC", "fr")
alike("price", "was £2,199.00 now £1,799.00 save £400.00")
alike("order", "#100023456 still not here")
alike("order", "Order: 020794609588")
alike("order", "PO 4500012345")
alike("order", "Case 01234567 opened")
alike("order", "Auftrag 0301234567", "de")
alike("order", "Tracking JD014600004138412345")
alike("order", "Sendungsverfolgung 00340434161234567891", "de")
alike("order", "Ordernr. 0612345678", "nl")
alike("barcode", "EAN13 4012345678901")
alike("barcode", "GTIN-14 10012345678902")
alike("barcode", "IMEI 356938035643809")
alike("barcode", "ISBN 9780306406157")
alike("barcode", "EAN 5060123456781, 2 pack")
alike("model", "Call of Duty Modern Warfare 3 (2023)")
alike("model", "Phone case for iPhone 15, fits 2023 models")
alike("model", "This phone has 128 GB and 8 GB RAM")
alike("model", "Smartphone 6.1 inch, 2556 x 1179 pixels")
alike("model", "Telefon Gigaset C430 mit 2 Mobilteilen", "de")
alike("dimension", "Mobile 5G, 6.7 inch, 4500 mAh")
alike("dimension", "Telefoonhouder 2 stuks, 15 x 8 cm", "nl")
alike("dimension", "Weight 0.75 kg, 1 200 x 800 mm")
alike("date", "Call us Mon-Fri 9:00-17:00")
alike("date", "Ring doorbell 2nd gen, 2023 edition")
alike("product", "2 Mill Lane mugs and 4 Park Avenue plates")
alike("product", "Rue de la Paix Monopoly edition")
alike("phrase", "I am Hungry for more")
alike("phrase", "My name is on the box")
alike("phrase", "Mein Name ist egal", "de")

# =========================================================================================
# FRESH: a third batch, written after the holdout had been used for fixes, and scored once
# as it stood: recall 38/38, precision 97.4%, 1 of 19 look-alikes flagged ("Ersatzteil Nr.
# 0151 2345 678", read as a German mobile). The fix was general: a word with "Nr." / "No." /
# "#" before a number labels it as something else unless the word is a phone word.
# =========================================================================================
_split = "fresh"

pii("Hi there, can you call me back on {phone:020 7946 0377} between 9 and 5?")
pii("my husband's number is {phone:07700 900 640}, he'll be home")
pii("Office: {phone:0161 496 0128}, Mobile: {phone:07700 900 412}")
pii("Please ring {phone:01632 960 555} 24 hours a day")
pii("I'm reachable at {phone:+44 7700 900 818} or by email {email:lena.k@example.org}")
pii("We're a business, contact {email:orders@example-bakery.example.co.uk} for invoices")
pii("The delivery guy can call {phone:+1 (312) 555-0155}, I'm in Chicago")
pii("Text only: {phone:07700 900 272}")
pii("tel {phone:+49 221 98765432} oder {email:kontakt@example.de}", "de")
pii("Erreichbar ab 18 Uhr unter {phone:0231 4567890}", "de")
pii("Mein Handy: {phone:+49 160 1234567} (auch WhatsApp)", "de")
pii("Joignable au {phone:06 39 98 33 21} après 18h", "fr")
pii("Mail : {email:c.lefevre@exemple.example.fr}, tél {phone:+33 6 39 98 00 11}", "fr")
pii("Je veux un remboursement sur {iban:FR76 3000 6000 0112 3456 7890 189}", "fr")
pii("Bel me even: {phone:06 87654321}", "nl")
pii("Je kunt mailen naar {email:m.bakker@example.nl} of bellen {phone:010 765 4321}", "nl")
pii("Terugstorten op {iban:NL02 ABNA 0123 4567 89} graag", "nl")
pii("Please refund card {card:4242-4242-4242-4242}, not PayPal")
pii("Last time I paid with {card:5105105105105100}")
pii("Overweisung bitte an {iban:AT61 1904 3002 3457 3201}", "de")
pii("New address: {address:Flat 12, 3 Harbour Road, Whitby YO21 1AA}")
pii("Can you redirect it to my work, {address:45 Castle Street, Edinburgh EH2 3AT}?")
pii("It's {address:18 Elm Grove, Leeds LS6 2AB}, not 81")
pii("I'm at {address:2250 Market Street, San Francisco, CA 94114} now", region="US")
pii("Neue Anschrift: {address:Bahnhofstr. 3a, 79098 Freiburg}", "de")
pii("Bitte liefern an {address:Am Stadtpark 9, 81243 München}", "de")
pii("Nouvelle adresse : {address:7 impasse des Lilas, 31500 Toulouse}", "fr")
pii("Graag bezorgen op {address:Wilhelminastraat 27, 6524 AL Nijmegen}", "nl")
pii("Hello, my name is {name:Gregory House}, the kettle leaks")
pii("Hallo, ich heiße {name:Tobias} und das Kabel ist zu kurz", "de")
pii("Bonjour, je m'appelle {name:Amélie Poulain}", "fr")
pii("{name:Jane}'s order, she asked me to write", names=("Jane Doe",))
pii("Many thanks, {name:Sam Wilson}", names=("Sam Wilson",))

alike("sku", "Spare filter, part no. 0207 946 095 8")
alike("sku", "Replacement remote for model 07700-900")
alike("sku", "Ersatzteil Nr. 0151 2345 678", "de")
alike("price", "£2 199 or £109.95 a month over 24 months")
alike("price", "Prix spécial 1 099,00 € au lieu de 1 299,00 €", "fr")
alike("price", "Nu € 1.149,- (was € 1.399,-)", "nl")
alike("price", "Was $1,149.99, now $999.99 + $49.99 shipping")
alike("order", "Your order 0207946095 8 has shipped")
alike("order", "Auftragsnummer: 0301 2345 6789", "de")
alike("order", "Commande n° 06 39 98 12 34 56", "fr")
alike("barcode", "EAN: 0 12345 67890 5")
alike("barcode", "ISBN-13: 978-0-306-40615-7")
alike("model", "Samsung Galaxy A54 5G, 128 GB, 6.4 inch, 5000 mAh")
alike("model", "Sony KD-55X85L 55 inch 4K")
alike("dimension", "Fits 1200 x 600 x 30 mm worktops, 2 x 50 W")
alike("date", "Delivered 03/04/2024, returned 17/04/2024")
alike("product", "5 Star Hotel Collection pillows, 2 pack")
alike("product", "The 12 Days of Christmas, 3 Kings Road Trip edition")
alike("phrase", "I'm Happy to wait for the restock")

"""Email addresses, written out or spelled to dodge spam bots, and passwords in links."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .base import Finding

# Labels are bounded and must end in a letter or digit, so a label is read one way only; the
# dots between labels fix where each ends. Nothing here backtracks more than a label's length.
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_TLD = r"[^\W\d_]{2,24}"
EMAIL_RE = re.compile(
    r"(?<![\w.%+\-])"
    r"[\w%+\-](?:[\w.%+'\-]{0,62}[\w%+\-])?"
    r"@(?:" + _LABEL + r"\.){1,8}" + _TLD + r"(?![\w\-]|\.[^\W_])"
)

# "jane at example dot com", "jane.doe [at] example [dot] co [dot] uk", "jane(at)example.de",
# "jean arobase exemple point fr", "jan (apenstaartje) voorbeeld punt nl".
_AT = (
    r"(?:\s*[\[(<{]\s*(?:at|ät|arobase|apenstaartje|klammeraffe)\s*[\])>}]\s*"
    r"|\s+(?:at|arobase)\s+)"
)
_DOT = r"(?:\s*[\[(<{]\s*(?:dot|punkt|point|punt)\s*[\])>}]\s*|\s+(?:dot|punkt|point|punt)\s+|\.)"
SPELLED_EMAIL_RE = re.compile(
    r"(?<![\w.%+\-])(?P<local>[\w%+\-](?:[\w.%+\-]{0,62}[\w%+\-])?)"
    + _AT
    + r"(?P<domain>(?:"
    + _LABEL
    + _DOT
    + r"){1,4})(?P<tld>[^\W\d_]{2,6})(?![\w\-])",
    re.IGNORECASE,
)
#: The last label of a spelled-out address must be a top-level domain people actually use:
#: "I looked at this dot matrix" is no address.
SPELLED_TLDS = frozenset(
    " ".join(
        (
            "com org net edu gov info biz io co uk de fr nl be at ch eu es it pt ie lu dk se no",
            "fi pl cz us ca au nz in me tv shop online email mail",
        )
    ).split()
)
#: "buy it at argos dot co dot uk" is a shop, not an address: words before " at " that are
#: no one's mailbox.
_SPELLED_NOT_LOCAL = frozenset(
    " ".join(
        (
            "it them this that these those one ones buy bought sold sell selling available look",
            "looked looking find found shop shopping order ordered get got me us here there",
            "online stock arrive arrived arrives price prices cheaper cheap deal deals",
        )
    ).split()
)

_EMAIL_CUE_RE = re.compile(
    r"(?<![^\W\d_])(?:e-?mail|mail|mailbox|reply|replies|write|contact|reach|courriel|écrivez|"
    r"schreiben|schreib|antworten|stuur|mailen|inbox|address|adresse|adres)(?![^\W\d_])",
    re.IGNORECASE,
)
_URL_CREDENTIALS_RE = re.compile(
    r"(?<![\w+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,15}://(?P<userinfo>[^\s/?#@:\[\]]{1,256}:[^\s/?#@\[\]]{1,256})@"
)


def find_emails(text: str) -> Iterator[Finding]:
    for match in EMAIL_RE.finditer(text):
        yield Finding("email", match.start(), match.end(), match.group())
    if not re.search(r"(?i)\b(?:at|ät|arobase|apenstaartje|klammeraffe)\b", text):
        return
    for match in SPELLED_EMAIL_RE.finditer(text):
        if match.group("tld").lower() not in SPELLED_TLDS:
            continue
        local = match.group("local")
        if local.lower() in _SPELLED_NOT_LOCAL:
            continue
        spelled_dot = re.search(r"(?i)dot|punkt|point|punt", match.group("domain"))
        bracketed = re.search(r"[\[(<{]", match.group())
        # "sold at argos.co.uk": a plain " at " before a real dot is mostly a shop; an
        # address only where the words before say so, or the mailbox looks like one.
        mailbox = re.search(r"[._+0-9]", local) or _EMAIL_CUE_RE.search(
            text, max(0, match.start() - 40), match.start()
        )
        if spelled_dot or bracketed or mailbox:
            yield Finding("email", match.start(), match.end(), match.group())


def find_url_credentials(text: str) -> Iterator[Finding]:
    if "://" not in text:
        return
    for match in _URL_CREDENTIALS_RE.finditer(text):
        start, end = match.span("userinfo")
        yield Finding("url_credentials", start, end, match.group("userinfo"))

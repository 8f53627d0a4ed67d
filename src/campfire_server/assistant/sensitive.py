"""Detect topics that a person handles whatever the knowledge base says.

Two kinds of message go to a person in every mailbox, before retrieval:

* ``billing_dispute``: a charge the customer disputes, such as a double
  charge, a charge they did not authorise, a charge after cancelling, a
  chargeback, or a demand for a refund ("I want a refund").
* ``account_security``: an incident on the customer's own account, such as
  a hacked or compromised account, a stolen account, password or card, a
  sign-in they did not make, or fraud.

Only the customer's own incident counts. Questions about how refunds work
("how long does a refund take?", "what is your refund policy?") and about
security features or advisories ("how do I enable two-factor
authentication?", "could an attacker compromise the server?") stay questions
for the knowledge base. So do a merchant's how-to questions about an
incident of one of their own customers ("how do I refund a customer who was
charged twice?", "how do I report fraud by a customer?"), because the
incident is not the writer's own. Russian, Polish, Turkish, Chinese,
Japanese, Korean and Arabic forms are in ``sensitive_languages.py``.
"""

from __future__ import annotations

import re
from enum import StrEnum

from . import sensitive_languages as more
from .person_request import fold


class SensitiveTopic(StrEnum):
    BILLING_DISPUTE = "billing_dispute"
    ACCOUNT_SECURITY = "account_security"


def _patterns(*expressions: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{e})" for e in expressions))


_TIMES = r"(?:twice|two times|2 times|three times|3 times|multiple times|several times|double)"
_MONEY_NOUNS = r"(?:charges?|payments?|transactions?|debits?|withdrawals?)"

_BILLING_DISPUTE = _patterns(
    # English: a double charge, a charge not authorised or after cancelling, a chargeback.
    rf"\b(?:charged|billed|debited)\s+(?:me\s+|us\s+)?(?:for\s+\w+\s+)?{_TIMES}\b",
    rf"\b(?:double|duplicate|duplicated|twice the)\s+(?:charged?|billing|billed|{_MONEY_NOUNS})\b",
    rf"\b(?:unauthori[sz]ed|fraudulent|unknown|unrecogni[sz]ed)\s+{_MONEY_NOUNS}\b",
    rf"\b(?:didn'?t|did not|never)\s+(?:authori[sz]e|approve|make|recogni[sz]e)\s+"
    rf"(?:this|that|the|these|those|a|any)\s+{_MONEY_NOUNS}\b",
    r"\bcharged\s+(?:me\s+|us\s+)?(?:without\s+(?:my|our)\s+(?:permission|consent|"
    r"authori[sz]ation)|after\s+(?:i|we)\s+cancel+ed|even though\s+(?:i|we)\s+cancel+ed)\b",
    r"\b(?:still|keep|kept)\s+(?:being\s+|getting\s+)?(?:charged|billed|charging|billing)\b",
    # A merchant asking how chargebacks work ("track the status of chargeback
    # 1124") is asking about a feature, so only a threat to file one counts.
    r"\b(?:file|open|start|initiate|do|request)\w*\s+(?:a\s+)?charge ?back\b|"
    r"\bdispute\s+(?:a|the|this|that|my)\s+(?:charge|payment|transaction)\b",
    # English: a refund demand, not a question about refunds.
    r"\b(?:i|we)\s+(?:want|need|demand|expect|deserve|would like|'d like)\s+(?:a\s+|my\s+|our\s+|"
    r"an?\s+immediate\s+|a\s+full\s+)?(?:full\s+)?refund\b",
    r"\b(?:refund|reimburse)\s+(?:me|us|my money|our money)\b",
    r"\b(?:give|send)\s+(?:me|us)\s+(?:my|our)\s+money\s+back\b|\bwant (?:my|our) money back\b",
    # Spanish, French, German, Portuguese, Italian and Dutch.
    r"\b(?:me (?:cobraron|han cobrado|cobrasteis) (?:dos veces|doble)|cobro (?:duplicado|doble)|"
    r"cargo (?:duplicado|no autorizado)|quiero (?:un|mi) reembolso|devuelvanme mi dinero)\b",
    r"\b(?:debite|facture|preleve) deux fois|double (?:prelevement|facturation|debit)|"
    r"(?:je veux|je demande|je souhaite) (?:un|etre) rembours\w*|prelevement non autorise\b",
    r"\b(?:doppelt|zweimal) (?:abgebucht|belastet|berechnet)|(?:ich will|ich mochte) "
    r"(?:mein geld zuruck|eine (?:ruckerstattung|erstattung))|nicht autorisierte abbuchung\b",
    r"\b(?:cobrad[oa]s? (?:duas vezes|em dobro)|cobranca (?:duplicada|indevida|em dobro)|"
    r"quero (?:um |o )?(?:reembolso|meu dinheiro de volta))\b",
    r"\b(?:addebitat[oi] due volte|doppio addebito|addebito non autorizzato|"
    r"voglio (?:un |il )?rimborso|rivoglio i miei soldi)\b",
    r"\b(?:twee keer|dubbel) (?:afgeschreven|betaald|gefactureerd)|"
    r"ik wil (?:mijn geld terug|een terugbetaling)\b",
    *more.BILLING_DISPUTE,
)

_OWN_ACCOUNT = (
    r"(?:my|our|the|me|us)\s+(?:\w+\s+)?(?:account|accounts|password|email|e-mail|login|"
    r"card|credit card|profile|identity|workspace|store|site|website)"
)
_ACCOUNT_SECURITY = _patterns(
    # English: the customer's own account, password or card was taken.
    r"\b(?:someone|somebody|hackers?|a hacker|they|scammers?)\s+(?:has\s+|have\s+)?"
    r"(?:hacked|hijacked|stole|compromised|took over|broke into|accessed|logged into|"
    r"signed into|got into)\s+(?:my|our)\b",
    rf"\b{_OWN_ACCOUNT}\s+(?:was|were|has been|have been|got|is|are|been|seems|might be|"
    rf"may have been)\s+(?:\w+\s+)?(?:hacked|compromised|stolen|hijacked|taken over|breached)\b",
    r"\b(?:hacked|compromised|stolen|hijacked|breached)\s+(?:account|password|card|"
    r"credit card|email|identity)\b",
    r"\b(?:i|we)\s+(?:was|were|have been|got|'ve been)\s+(?:hacked|scammed|defrauded)\b",
    r"\b(?:i|we)\s+(?:didn'?t|did not|never)\s+(?:log|sign)\s*(?:in|on)\b|"
    r"\b(?:login|sign-?in|log-?in|access)\s+(?:that|which)\s+(?:i|we)\s+"
    r"(?:didn'?t|did not|never)\s+make\b",
    r"\bunauthori[sz]ed\s+(?:access|logins?|sign-?ins?|log-?ins?|use)\s+(?:to|of|on|in)\s+"
    r"(?:my|our)\b",
    # Only the customer's own case: "what is identity theft?" asks a definition.
    r"\bvictim of (?:identity theft|fraud)\b|\bmy identity (?:was|has been|got) stolen\b|"
    r"\b(?:this is|it'?s|that'?s)\s+fraud\b|\breport\s+(?:a\s+)?fraud\b",
    # Spanish, French, German, Portuguese, Italian and Dutch.
    r"\b(?:me (?:hackearon|robaron|han hackeado)|cuenta (?:hackeada|robada|comprometida)|"
    r"han (?:hackeado|entrado en) mi cuenta)\b",
    r"\b(?:mon compte (?:a ete )?(?:pirate|hacke|vole|compromis)|on m'a pirate|"
    r"victime d'une usurpation d'identite)\b",
    r"\b(?:mein (?:konto|account) (?:wurde|ist) (?:gehackt|gestohlen|kompromittiert)|"
    r"jemand hat mein (?:konto|account)|opfer (?:eines|von) identitatsdiebstahl)\b",
    r"\b(?:minha conta (?:foi )?(?:hackeada|invadida|roubada)|invadiram minha conta|"
    r"hackearam minha conta)\b",
    r"\b(?:(?:il )?mio account (?:e )?(?:stato )?(?:hackerato|rubato|violato|compromesso)|"
    r"mi hanno (?:hackerato|rubato) l'account|vittima di (?:un )?furto d'identita)\b",
    r"\b(?:mijn account (?:is )?(?:gehackt|gestolen|overgenomen)|iemand heeft mijn account)\b",
    *more.ACCOUNT_SECURITY,
)


# A how-to question in any supported language: "how do I", "comment",
# "wie kann ich", "come posso".
_HOW_TO = _patterns(
    r"\bhow\s+(?:do|can|could|should|would|to)\b|\bhow\s+(?:i|we)\b|"
    r"\b(?:what|which)(?:'s| is)?\s+the\s+(?:best\s+)?(?:way|steps?|process)\b",
    r"\b(?:como|comment|come|hoe)\b|\bwie\s+(?:kann|konnen|muss|soll)\b",
    more.HOW_TO,
)
# One of the merchant's own customers, the subject of the incident in a
# how-to question. "I'm a customer" is the writer and does not count.
_THIRD_PARTY = re.compile(
    r"(?<!i'm )(?<!i am )(?<!as )\b(?:an?|my|our|the|one of (?:my|our))\s+"
    r"(?:\w+\s+)?(?:customers?|clients?|buyers?|shoppers?|guests?|subscribers?|members?)\b|"
    r"\b(?:customers?|clients?|buyers?|shoppers?)'s?\b(?!\s+(?:service|support|care))|"
    r"\b(?:(?:un|una|el|la|le|il|o|a|mi|mon|ma|mio|mia|meu|minha|mijn)\s+)"
    r"(?:clientes?|clients?|klanten?)\b|\b(?:einem|einen|ein|meinem|meinen|unserem)\s+kunden?\b|"
    + more.THIRD_PARTY
)
# Clauses are searched on their own, so "someone hacked my account, how do I
# warn my customers?" is still the writer's own incident. A customer named in
# the clause before counts only when the incident clause has no first person:
# "einem Kunden helfen, der doppelt abgebucht wurde".
_CLAUSE_BREAK = re.compile(r"[.,;:!?\n。、]+")
_FIRST_PERSON = re.compile(
    r"\b(?:i|we|me|us|my|our|ich|mich|mir|je|moi|yo|eu|io|ik|mij)\b|" + more.FIRST_PERSON
)


def _own_incident(pattern: re.Pattern[str], folded: str) -> bool:
    # The topic patterns have no anchors or lookarounds, and every clause
    # break is a non-word character, so a pattern that matches a clause also
    # matches the whole text. Most messages match nowhere and skip the loop.
    if not pattern.search(folded):
        return False
    how_to = bool(_HOW_TO.search(folded))
    previous = ""
    for clause in _CLAUSE_BREAK.split(folded):
        if pattern.search(clause) and not (how_to and _about_customer(clause, previous)):
            return True
        previous = clause
    return False


def _about_customer(clause: str, previous: str) -> bool:
    if _THIRD_PARTY.search(clause):
        return True
    return bool(_THIRD_PARTY.search(previous) and not _FIRST_PERSON.search(clause))


def sensitive_topic(message: str) -> SensitiveTopic | None:
    """Return the topic that ``message`` raises and a person must handle, or None."""
    folded = fold(message)
    if _own_incident(_ACCOUNT_SECURITY, folded):
        return SensitiveTopic.ACCOUNT_SECURITY
    if _own_incident(_BILLING_DISPUTE, folded):
        return SensitiveTopic.BILLING_DISPUTE
    return None

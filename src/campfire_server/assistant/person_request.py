"""Detect a customer message that requests a person, in English, Spanish, French, German,
Portuguese, Italian, Dutch, Russian, Polish, Chinese, Japanese, Korean, Arabic and Turkish.

A request needs a request form: a verb of contact with a person as its
object ("talk to a person", "can I speak with a human"), a wish for one
("I want a real agent"), or a person word alone ("agent please"). Words for
people that name a topic ("a person limit on the team plan", "how many
staff seats") are not requests, so they are blanked out before matching.

A request form that is negated or refused is not a request: "I don't want
to talk to a person", "no human please", "je ne veux pas parler à un
humain", or "talk to a person? no thanks". Nor is one the customer denies
making ("I never said I want a human") or asks about ("who said anything
about a human?"). A negation counts only when it governs the request form,
so "not happy, get me a human" and "why can't I talk to a person?" stay
requests. A manager or supervisor is a person in every language, and a
team named as the one to talk to ("talk to sales") stands for its people.

A question about what people or roles can do is not a request either: "can
staff members help us tag conversations?", "can the operator help me
export?", "we need a team member who can only read".
"""

from __future__ import annotations

import functools
import re
import unicodedata

from . import person_request_languages as more

# Folded texts kept by ``fold``, least recently used first out.
FOLD_CACHE_SIZE = 256

# Typographic apostrophes, as phone keyboards type them in "don’t".
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


# Arabic vowel marks and the tatweel, which writers add or leave out freely,
# and the hamza forms of alif, which they type as a bare alif.
_ARABIC_MARKS = re.compile(r"[\u064b-\u0652\u0640]")
_ARABIC_ALIF = str.maketrans({"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627"})


def _is_latin(ch: str) -> bool:
    return ch < "\u0370" or "\u1e00" <= ch <= "\u1eff"


# The handoff checks and the small-talk match fold the same message about a
# dozen times per reply, so recent results are cached.
@functools.lru_cache(maxsize=FOLD_CACHE_SIZE)
def fold(text: str) -> str:
    """Lower-case ``text``, drop accents of Latin letters and straighten apostrophes.

    So "habláR" matches "hablar", and "don’t" matches "don't". Only Latin
    letters lose their marks, because in other scripts a mark changes the
    letter: Japanese "バ" is not "ハ", and Korean syllables must not split
    into their jamo. Full-width forms become ASCII, and Arabic loses its
    vowel marks and the hamza on alif.
    """
    if text.isascii():
        # NFKC leaves ASCII unchanged, and no ASCII character has a mark to
        # drop, so lower case is all that is left to do.
        return text.lower()
    lowered = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    lowered = _ARABIC_MARKS.sub("", lowered.translate(_ARABIC_ALIF))
    folded = []
    for ch in lowered:
        if ch.isascii() or not _is_latin(ch):
            folded.append(ch)
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            folded.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(folded)


def _patterns(*expressions: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{e})" for e in expressions))


# Words for a person in every supported language, singular and plural.
_PEOPLE = (
    r"(?:humans?|human beings?|persons?|people|someone|somebody|agents?|reps?|representatives?|"
    r"staff|operators?|employees?|team members?|humanos?|personas?|agentes?|asesor(?:es)?|"
    r"operador(?:es)?|representantes?|humains?|personnes?|conseillers?|operateurs?|"
    r"menschen?|mitarbeiter(?:in|innen|n)?|berater(?:in)?|pessoas?|atendentes?|umani|umano|"
    r"persone|operatori|operatore|medewerkers?|mensen|mens|personen|persoon)"
)
# A word for a person becomes a topic when a count or a noun of the product
# is next to it: "how many people", "per person", "person limit".
_TOPIC = _patterns(
    rf"\b(?:how many|how much|number of|amount of|count of|per|each|every|extra|additional|"
    rf"more|fewer|max(?:imum)?|min(?:imum)?|up to|limit (?:of|on|for)|cuant[oa]s|numero de|"
    rf"limite de|por|cada|combien de|nombre de|par|wie viele|anzahl (?:der|an)|pro|je|"
    rf"quant[oa]s|quante|quanti|numero di|limite di|hoeveel|aantal|\d+)\s+"
    rf"(?:\w+\s+)?{_PEOPLE}\b",
    rf"\b{_PEOPLE}\s+(?:limits?|caps?|seats?|counts?|numbers?|accounts?|roles?|permissions?|"
    rf"licen[cs]es?|plans?|pricing|prices?|fees?|resources|management|lists?|profiles?|"
    rf"access|capacity|quotas?|allowance|based|settings?|fields?|types?|skills?|status|"
    rf"schedules?|availability|calendars?|bookings?|names?|emails?)\b",
)

# A team that serves customers, and a member of it: "customer service
# representative", "support agent", "someone from your support team".
_SERVICE = (
    r"(?:customer (?:service|support|care)|technical support|tech support|help ?desk|"
    r"support|service|billing|sales)"
)
_SERVICE_PERSON = (
    rf"(?:{_SERVICE}\s+(?:representatives?|reps?|agents?|persons?|people|team|staff|"
    r"specialists?|advisors?|members?|department)|"
    r"(?:someone|somebody|anyone|anybody|a person|people)\s+(?:from|on|in|at)\s+"
    rf"(?:your|the|ur)\s+(?:{_SERVICE}\s+)?(?:team|staff|company|office)|"
    r"(?:a\s+)?(?:member of|one of)\s+(?:your|the|ur)\s+(?:support\s+)?(?:team|staff)|"
    r"staff members?|team members?|your team|your staff|"
    rf"(?:someone|somebody|anyone|anybody)\s+(?:from|in|at)\s+(?:(?:your|the|ur)\s+)?{_SERVICE}\b)"
)
# A team named alone as the one to talk to: "talk to sales", "speak to support".
_TEAM_NAME = (
    r"(?:(?:the|your|ur)\s+)?(?:sales|billing|support|customer (?:service|support|care)|"
    r"tech(?:nical)? support|help ?desk)(?:\s+team)?"
)
# Words that name a person wherever they stand, unlike "someone", "agent" or
# "support", which also name a feature or a stranger.
_SPECIFIC_PERSON = (
    rf"(?:{_SERVICE_PERSON}|(?:real|live|actual)\s+(?:humans?|persons?|people|agents?|someone|"
    r"somebody|employees?|operators?)|humans?|human beings?|human agents?|representatives?|"
    r"operators?)"
)
_PERSON = (
    rf"(?:{_SERVICE_PERSON}|human|human being|person|people|someone|somebody|agent|rep|"
    r"representative|staff|operator|customer (?:service|support|care)|"
    r"(?:your|ur|a|the) (?:manager|supervisor)|employee|team member|live chat)"
)
_ARTICLE = r"(?:(?:an?|the|your|some|any|one of your)\s+)?(?:(?:actual|real|live)\s+)?"
# Words for a manager or supervisor, per language, after accents are dropped.
_MANAGERS_ES = r"(?:gerente|supervisora?|encargad[oa]|responsable|jef[ea])"
_MANAGERS_FR = r"(?:responsable|superviseur|superieur|manager|directeur|chef)"
_MANAGERS_DE = r"(?:vorgesetzte[nr]?|manager(?:in)?|chef(?:in)?|teamleiter(?:in)?|supervisor)"
_MANAGERS_PT = r"(?:gerente|supervisora?|responsavel|chefe)"
_MANAGERS_IT = r"(?:responsabile|supervisore|direttore|manager|capo)"
_MANAGERS_NL = r"(?:manager|leidinggevende|supervisor|chef|teamleider)"
# Text allowed after the person word in a request: the end of the clause, a
# courtesy, or what the customer wants to talk about.
_REQUEST_END = (
    r"(?=\s*(?:$|[,.;:!?)]|please|pls|now|asap|instead|right|here|today|directly|about|"
    r"regarding|for|on|from|at|of|in|who|that|because|to help|to talk|to speak|i can|i could|"
    r"urgently))"
)

# One person, named by "someone" or a singular person word, as the subject of
# a request for help. "The agent" and "agents" name the product's feature or
# its users, and "can anyone help me?" closes many a forum question, so they
# are left out.
_ONE_HELPER = (
    r"(?:someone|somebody|(?:an?\s+)?(?:(?:real|live|actual)\s+)?"
    r"(?:agent|human|person|representative|rep|operator|advisor|adviser|employee|"
    r"staff member|team member))"
)
# Each form is searched on its own, because the negation of one overlapping
# form ("no" before "puedo hablar") must not hide another ("hablar con").
_REQUEST_EXPRESSIONS = (
    # English
    rf"\b(?:talk|speak|chat)\w*\s+(?:to|with)\s+{_ARTICLE}{_PERSON}\b{_REQUEST_END}",
    rf"\b(?:talk|speak|chat)\w*\s+(?:to|with)\s+{_TEAM_NAME}\b{_REQUEST_END}",
    rf"\b(?:get|connect|transfer|put|pass|escalate|send)\w*\s+(?:me|this|us|my \w+)\s+"
    rf"(?:through\s+)?(?:to|with)\s+{_ARTICLE}{_PERSON}\b{_REQUEST_END}",
    rf"\b(?:want|need|like|request|prefer|demand|get)\w*\s+(?:me\s+)?"
    rf"(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?{_ARTICLE}(?:human|person|"
    rf"representative|real agent|live agent|human agent|support agent|manager|supervisor)\b"
    rf"{_REQUEST_END}",
    # The same wish for any word of a person, but a bare "like" is left out,
    # because "the LIKE operator" and "reply like a human" are no wishes.
    rf"\b(?:want|need|request|prefer|demand|(?:'d|would) like|get me)\w*\s+"
    rf"(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?{_ARTICLE}{_SPECIFIC_PERSON}\b"
    rf"{_REQUEST_END}",
    # A person asked to help, call or reply: "can a real human help me with
    # billing", "could someone from your team call me", "I need a
    # representative to look at this". The object "me" or "us" keeps out
    # questions about the product's agents ("can an agent help a customer
    # in two mailboxes?").
    rf"\b(?:can|could|would|will|may|might|please|i want|i need|i'd like|i would like|"
    rf"is there|isn't there|have|get)\s+{_ARTICLE}{_SPECIFIC_PERSON}\s+(?:please\s+)?"
    rf"(?:(?:to|who can|that can)\s+)?(?:help|assist|call|phone|contact|email|answer|"
    rf"look at|check|handle|reach out to|get back to|talk to|speak (?:to|with)|chat with)"
    rf"\s+(?:me|us|my|our|this|it)\b",
    # A polite question that asks one person to help the customer with
    # anything: "could an agent help me understand my bill?", "can someone
    # help me reset my password?". A customer who asks whether a person could
    # help them wants one, whatever the task.
    rf"\b(?:can|could|would|will|may)\s+{_ONE_HELPER}\s+(?:please\s+)?(?:help|assist)\s+"
    r"(?:me|us)\b",
    # Help wanted from a person: "can I get help from a real agent?", "I want
    # help from a human".
    rf"\bhelp\s+from\s+{_ARTICLE}(?:{_SPECIFIC_PERSON}|{_ONE_HELPER})\b",
    # The same in Spanish, French, German, Portuguese, Italian and Dutch: "ayuda
    # de una persona real", "l'aide d'un vrai conseiller", "Hilfe von einem
    # echten Menschen", "ajuda de um atendente", "aiuto da un operatore",
    # "hulp van een echte medewerker".
    r"\bayuda\s+de\s+(?:un|una|algun)\s+(?:humano|persona|agente|asesor|operador|"
    r"representante)\b",
    r"\baide\s+d'(?:un|une)\s+(?:vrai\s+|vraie\s+)?(?:humain|personne|agent|conseiller|"
    r"conseillere|operateur)\b",
    r"\bhilfe\s+(?:von|durch)\s+(?:einem|einer)\s+(?:echten\s+)?(?:menschen|mitarbeiter(?:in)?|"
    r"person|berater(?:in)?)\b",
    r"\bajuda\s+de\s+(?:um|uma|algum)\s+(?:humano|pessoa|agente|atendente|operador)\b",
    r"\baiuto\s+da\s+(?:un|una|un')\s*(?:umano|persona|agente|operatore|operatrice)\b",
    r"\bhulp\s+van\s+(?:een|de)\s+(?:echte\s+)?(?:mens|medewerker|persoon)\b",
    rf"^\W*{_ARTICLE}(?:{_SPECIFIC_PERSON}|customer (?:service|support|care))\W*"
    rf"(?:please|pls|now|asap)?\W*$",
    rf"^\W*{_ARTICLE}(?:human|person|agent|representative|operator)\W*"
    rf"(?:please|pls|now|asap)?\W*$",
    r"\b(?:agent|human|representative|operator)\s*,?\s*(?:please|pls|now|asap)\b",
    r"\bescalate\b(?!\w)",
    r"\b(?:bot|robot|ai|assistant)\b[^.?!]{0,30}\b(?:not|isn'?t|useless|doesn'?t)\b"
    r"[^.?!]{0,15}\b(?:help|work|understand)",
    r"\bis (?:there|this) (?:a|an) (?:(?:real|live|actual) )?(?:human|person|agent)\b"
    r"(?=\s*(?:$|[,.;:!?]|here|there|available|i can|on the|behind|to talk|who))",
    r"\bare you (?:a )?(?:real person|human|bot|robot)\b",
    # Spanish
    r"\b(?:hablar|comunicar\w*|contactar|pasar\w*|pasa\w*|pase\w*|transferir\w*|transfier\w*)"
    r"\s+(?:con|a|al)\s+(?:un|una|el|la|su|tu|algun|alguien|una? persona de)?\s*"
    rf"(?:humano|persona|agente|asesor|operador|representante|alguien|{_MANAGERS_ES})\b",
    r"\b(?:quiero|necesito|deseo|puedo)\s+(?:hablar con\s+)?(?:un|una|a|el|la|al|su|tu)\s+"
    rf"(?:humano|persona|agente|asesor|operador|representante|{_MANAGERS_ES})"
    r"(?:\s+(?:real|humano))?\s*(?:,?\s*por favor)?\s*(?:$|[.!?,])",
    r"\b(?:una persona|un humano|un agente|un asesor) (?:real|por favor)\b",
    r"\b(?:hablar|comunicar\w*|contactar)\s+(?:con|a|al)\s+(?:el|la|su|tu)?\s*"
    r"(?:servicio al cliente|atencion al cliente|soporte|alguien de (?:soporte|su equipo|"
    r"atencion al cliente))\b",
    r"\b(?:hablar|comunicar\w*|contactar)\s+(?:con|a)\s+alguien\s+(?:de|del)\s+(?:su\s+|tu\s+)?"
    r"(?:equipo|soporte|ventas|facturacion)\b",
    r"\bme\s+(?:pasa|pasas|pase|pasan|comunica|comunicas|transfiere|transfieres)\s+(?:con|a|al)\s+"
    r"(?:el\s+|la\s+)?(?:soporte|ventas|facturacion|atencion al cliente|servicio al cliente|"
    r"alguien|un agente|una persona|un humano)\b",
    r"\b(?:puede|podria|pueden|podrian)\s+(?:ayudarme|atenderme|llamarme)\s+(?:un|una|algun|el|la)\s+"
    r"(?:humano|persona real|persona|agente|asesor|operador|representante)\b",
    r"\b(?:un|una|algun|el|la)\s+(?:humano|persona real|agente real|asesor|operador|"
    r"representante)\s+(?:me\s+)?(?:puede|podria)\s+(?:ayudar|atender|llamar)\w*",
    # "¿Alguien puede ayudarme?", "¿podría un agente ayudarme a entender mi factura?"
    r"\b(?:puede|podria|pueden|podrian)\s+(?:alguien|un agente|una persona|un humano|"
    r"un asesor|un operador|un representante)\s+(?:ayudarme|atenderme)\b",
    r"\b(?:alguien|un agente|una persona|un humano)\s+(?:me\s+)?(?:puede|podria)\s+"
    r"(?:ayudarme|atenderme|ayudar|atender)\b",
    # A person word alone in any of the languages, after an optional "ok" and
    # before an optional "please".
    r"^\W*(?:(?:ok|okay|vale|bueno|ja|oui|si|sim|well)\W+)?(?:un |una |um |uma |ein |einen |een )?"
    r"(?:agente|humano|persona|operador|asesor|mensch|mitarbeiter|humain|conseiller|"
    r"operateur|operatore|umano|medewerker|atendente|pessoa)\W*"
    r"(?:por favor|bitte|s'il vous plait|per favore|alstublieft|please)?\W*$",
    # French
    r"\b(?:parler|joindre|contacter|passer)\s+(?:a|avec|au)\s+"
    r"(?:un|une|le|la|votre|quelqu'?un)?\s*(?:vrai\s+|vraie\s+)?"
    rf"(?:humain|personne|agent|conseiller|conseillere|operateur|{_MANAGERS_FR})\b",
    rf"\bpassez[- ]moi\s+(?:un|une|le|la|votre)\s+(?:humain|conseiller|agent|{_MANAGERS_FR})\b",
    r"\b(?:parler|joindre|contacter)\s+(?:a|avec|au)\s+(?:le|la|votre)?\s*"
    r"(?:service client|support|service apres-vente|quelqu'un du (?:support|service client))\b",
    r"\b(?:parler|joindre|contacter)\s+(?:a|avec)\s+(?:un membre|quelqu'un|une personne)\s+"
    r"(?:de|du|des)\s+(?:votre\s+|vos\s+|l'|la\s+)?(?:equipe|support|service client|ventes)\b",
    r"\bpassez[- ]moi\s+(?:le|la|votre)\s+(?:service client|support|service apres-vente|"
    r"service commercial)\b",
    r"\b(?:un|une)\s+(?:vrai\s+|vraie\s+)?(?:humain|personne|conseiller|conseillere|agent|"
    r"operateur)\s+(?:peut|pourrait)(?:-(?:il|elle))?\s+(?:m'|nous\s+)"
    r"(?:aider|appeler|rappeler|repondre)",
    r"\bquelqu'un\s+(?:peut|pourrait)(?:-il)?\s+(?:m'|nous\s+)aider\b",
    r"\b(?:je veux|je voudrais|j'ai besoin d'|je souhaite)\s*(?:un|une)\s+"
    r"(?:vrai\s+|vraie\s+)?(?:humain|personne|agent|conseiller|operateur)"
    r"(?:\s+humain)?\s*(?:,?\s*s'il vous plait)?\s*(?:$|[.!?,])",
    # German
    r"\b(?:sprechen|reden|verbinden|verbinde|sprechen)\b[^.?!]{0,10}\b(?:mit|zu)\s+"
    r"(?:einem|einer|einen|jemandem|ihrem|ihrer|dem|der)?\s*(?:echten\s+)?"
    rf"(?:mensch\w*|mitarbeiter(?:in)?|person|berater(?:in)?|{_MANAGERS_DE})\b",
    r"\b(?:mit|zu)\s+(?:einem|einer|einen|jemandem|dem|der|ihrem|ihrer)\s+(?:echten\s+)?"
    rf"(?:mensch\w*|mitarbeiter(?:in)?|person|berater(?:in)?|{_MANAGERS_DE})\s+"
    r"(?:\w+\s+)?(?:sprechen|reden|verbunden|verbinden)\b",
    r"\b(?:den|die|ihren|ihre|einen|eine)\s+(?:echten\s+)?"
    rf"(?:mitarbeiter(?:in)?|menschen|berater(?:in)?|person|{_MANAGERS_DE})\s+(?:\w+\s+)?sprechen\b",
    r"\bverbinden\s+sie\s+mich\s+(?:bitte\s+)?mit\s+(?:dem|ihrem)\s+"
    r"(?:kundenservice|kundendienst|support|vertrieb|team)\b",
    r"\bmit\s+jemandem\s+(?:vom|von|aus)\b[^.?!]{0,30}\b(?:sprechen|reden)\b",
    r"\b(?:mit|zum)\s+(?:dem|ihrem)?\s*(?:kundenservice|kundendienst|support)\s+"
    r"(?:\w+\s+)?(?:sprechen|reden|verbunden|verbinden)\b",
    r"\b(?:kann|konnte)\s+(?:mir|uns)\s+(?:ein|eine|jemand|ein echter|eine echte)\s*"
    r"(?:mensch|mitarbeiter(?:in)?|berater(?:in)?|person|vom (?:support|kundenservice))?\s*"
    r"(?:\w+\s+){0,3}?helfen\b",
    # Portuguese
    r"\b(?:falar|conversar)\s+com\s+(?:um|uma|algum|alguem|o|a|seu|sua)?\s*"
    rf"(?:humano|pessoa|atendente|agente|{_MANAGERS_PT})\b",
    r"\b(?:quero|preciso de)\s+(?:um|uma|o|a)\s+"
    rf"(?:humano|pessoa|atendente|agente|{_MANAGERS_PT})"
    r"(?:\s+(?:real|humano))?\s*(?:,?\s*por favor)?\s*(?:$|[.!?,])",
    r"\b(?:falar|conversar)\s+com\s+(?:o|a)?\s*(?:atendimento|suporte|servico ao cliente)\b",
    r"\b(?:falar|conversar)\s+com\s+alguem\s+(?:da|do|de)\s+(?:sua\s+|vossa\s+)?"
    r"(?:equipe|equipa|suporte|atendimento|vendas|financeiro)\b",
    r"\b(?:um|uma|algum)\s+(?:humano|pessoa real|atendente|agente)\s+"
    r"(?:pode|poderia)\s+me\s+(?:ajudar|atender|ligar)",
    r"\balguem\s+(?:pode|poderia)\s+me\s+(?:ajudar|atender)\b",
    r"\b(?:passa|passe|transfira|transfere)\w*\s+(?:me\s+)?(?:para|pro|pra)\s+"
    rf"(?:o|a|um|uma)?\s*(?:humano|pessoa|atendente|agente|{_MANAGERS_PT})\b",
    # Italian
    r"\b(?:parlare|chattare)\s+con\s+(?:un|una|un'|qualcuno|l'|il|lo|la|il vostro)?\s*"
    rf"(?:umano|persona|operatore|agente|addetto|{_MANAGERS_IT})\b",
    r"\b(?:voglio|vorrei|ho bisogno di)\s+(?:un|una|un'|il|lo|la)\s*"
    rf"(?:umano|persona|operatore|agente|{_MANAGERS_IT})"
    r"(?:\s+(?:reale|vero|vera|umano))?\s*(?:,?\s*per favore)?\s*(?:$|[.!?,])",
    r"\b(?:parlare|chattare)\s+con\s+(?:il|l')?\s*(?:servizio clienti|assistenza|supporto)\b",
    r"\b(?:parlare|chattare)\s+con\s+qualcuno\s+(?:del|della|dell'|dello)\s*(?:vostro\s+|vostra\s+)?"
    r"(?:assistenza|supporto|servizio clienti|team|vendite)\b",
    r"\b(?:un|una|un')\s*(?:umano|persona reale|persona vera|operatore|agente)\s+"
    r"(?:puo|potrebbe)\s+(?:aiutarmi|richiamarmi|chiamarmi)",
    r"\bqualcuno\s+(?:puo|potrebbe)\s+aiutarmi\b",
    r"\b(?:passa|passate|passi)(?:mi|temi)\s+(?:un|una|un'|il|lo|la|l')\s*"
    rf"(?:umano|persona|operatore|agente|assistenza|supporto|servizio clienti|{_MANAGERS_IT})\b",
    # Dutch
    r"\b(?:spreken|praten|chatten)\s+met\s+(?:een|de|iemand)?\s*(?:echte\s+)?"
    rf"(?:mens|medewerker|persoon|{_MANAGERS_NL})\b",
    r"\b(?:een|de|uw|je)\s+(?:echte\s+)?"
    rf"(?:mens|medewerker|persoon|{_MANAGERS_NL})\s+(?:(?:wil|wilt|willen|graag)\s+)?"
    r"(?:spreken|praten|aan de lijn)\b",
    r"\b(?:spreken|praten|chatten)\s+met\s+(?:de|uw|jullie)?\s*(?:klantenservice|helpdesk)\b",
    r"\biemand\s+van\s+(?:de\s+|uw\s+|jullie\s+|het\s+)?(?:klantenservice|support|helpdesk|team|"
    r"verkoop|sales)\s+(?:\w+\s+)?(?:spreken|praten)\b",
    r"\bmet\s+(?:de|uw|jullie)\s+(?:klantenservice|helpdesk)\s+(?:\w+\s+)?"
    r"(?:spreken|praten|chatten)\b",
    r"\b(?:kan|kunnen)\s+(?:een|de)\s+(?:echte\s+)?(?:mens|medewerker|persoon)\s+"
    r"(?:mij|me|ons)\s+(?:helpen|bellen|terugbellen)\b",
    r"\b(?:kan|kunnen|zou)\s+iemand\s+(?:mij|me|ons)\s+(?:kunnen\s+)?helpen\b",
    r"\bverbind\w*\s+(?:me|mij)\s+(?:door\s+)?met\s+(?:een|de|uw|je)\s+(?:echte\s+)?"
    rf"(?:mens|medewerker|persoon|{_MANAGERS_NL})\b",
)
_REQUEST_FORMS = tuple(
    re.compile(expression) for expression in _REQUEST_EXPRESSIONS + more.REQUEST_EXPRESSIONS
)

# A request to be passed on with no person named: "can you transfer me?",
# "put me through to billing", "pasame con alguien". The verb needs its
# object pronoun and then the end of the clause, a courtesy or a team, because
# the bare verbs are ordinary words: "mot de passe ?", "o que se passa?",
# "put me through the steps", "put me on the waiting list", "passez-moi le
# lien" and "connect me to Slack" stay questions.
_TEAMS = (
    r"(?:billing|sales|support|technical support|tech support|accounts?|finance|"
    r"customer care|the right (?:team|department|person)|another department|a department)"
)
_PASS_ON_END = r"\s*(?:$|[,.;:!?)]|please|pls|now|asap|urgently)"
_PASS_ON_EXPRESSIONS = (
    rf"\b(?:transfer|connect)\s+(?:me|us)(?:\s+back)?(?:{_PASS_ON_END}|\s+(?:to|with)\s+{_TEAMS}\b)",
    rf"\b(?:transfer|connect|put)\s+(?:me|us)\s+(?:through|over)(?:{_PASS_ON_END}|\s+to\b)",
    # Spanish, French, German, Portuguese, Italian and Dutch.
    r"\b(?:transfiereme|pasame|comunicame|me\s+(?:puede|puedes)\s+(?:transferir|pasar)|"
    r"(?:puede|puedes)\s+(?:transferirme|pasarme))"
    r"\s*(?:$|[,.;:!?]|por favor|con (?:alguien|un agente|una persona|el|la))",
    r"\b(?:transferez|transfere|passez|mettez)[- ]moi(?:\s+en relation)?"
    r"\s*(?:$|[,.;:!?]|s'il vous plait|avec|a (?:un|une|quelqu'un|le service)|quelqu'un)",
    r"\b(?:verbinden|leiten)\s+sie\s+mich\s+(?:bitte\s+)?(?:weiter|durch)\b",
    r"\b(?:me\s+(?:transfere|transfira|passa|passe)|(?:transfere|transfira|passa|passe)[- ]me)"
    r"\s*(?:$|[,.;:!?]|por favor|para (?:alguem|um|uma|o|a))",
    r"\b(?:trasferiscimi|passatemi|mi\s+(?:trasferisca|trasferisci|passi))"
    r"\s*(?:$|[,.;:!?]|per favore|(?:a|con) (?:qualcuno|un|una|il|l'))",
    r"\b(?:verbind|verbindt)\s+(?:me|mij)\s+door\b|\b(?:me|mij)\s+doorverbinden\b",
)
_PASS_ON_FORMS = tuple(re.compile(expression) for expression in _PASS_ON_EXPRESSIONS)

# A refusal of the bot is a request for a person: "no bot please", "I don't
# want a bot", "no more bots", "stop the bot", "not a robot", "kein Bot".
_BOTS = (
    r"(?:(?:chat\s*)?bots?|robots?|robo|robos|robotto|machines?|maquinas?|maschinen?|"
    r"automated (?:replies|answers|responses|messages|assistant)|ai|ia|ki|"
    r"virtual assistant|assistant virtuel|asistente virtual)"
)
_BOT_REFUSAL_EXPRESSIONS = (
    rf"\b(?:no|no more|not|never|stop|enough|quit|done with|tired of|sick of|hate|"
    rf"(?:do|does|did)\s*n[o']?t\s+(?:want|need|like)|(?:don'?t|do not) (?:want|wanna|need)"
    rf"(?:\s+to\s+(?:talk|speak|chat)\s+(?:to|with))?)\s+"
    rf"(?:(?:an?|the|this|your|any|stupid|more|talking to|with)\s+){{0,3}}{_BOTS}\b",
    rf"\b(?:sin|basta de|nada de|no quiero (?:hablar con )?(?:un|una|el|la|mas)?|ningun)\s*"
    rf"{_BOTS}\b",
    rf"\b(?:pas de|plus de|assez de|sans|je ne veux pas (?:parler a )?(?:un|une|de|le|la)?)\s*"
    rf"{_BOTS}\b",
    rf"\b(?:kein\w*|ohne|nicht mit (?:einem|einer|dem|der)|genug (?:vom|von))\s*{_BOTS}\b",
    rf"\b(?:sem|chega de|nao quero (?:falar com )?(?:um|uma|o|a|mais)?)\s*{_BOTS}\b",
    rf"\b(?:senza|basta con|basta|niente|non voglio (?:parlare con )?(?:un|una|il|lo|la)?)\s*"
    rf"{_BOTS}\b",
    rf"\b(?:geen|zonder|niet met (?:een|de))\s*{_BOTS}\b",
)
# The bot must end the clause or be followed by a courtesy or a new wish, so
# "I don't want the bot to reply at night" stays a question about the product.
_BOT_REFUSAL_END = (
    r"(?=\s*(?:$|[,;:!?.)]|please|pls|anymore|any ?more|thanks|now|i want|i need|just|por favor|"
    r"s'il vous plait|bitte|per favore|alstublieft|graag|quero|quiero|je veux|ich will|voglio|"
    r"ik wil))"
)
_BOT_REFUSAL_FORMS = tuple(
    re.compile(expression + _BOT_REFUSAL_END) for expression in _BOT_REFUSAL_EXPRESSIONS
)
# A refusal must open its clause, after at most greetings, courtesies and the
# speaker's own wish, because "no AI" and "not the machine" are ordinary words
# mid-sentence: "is the license per user, not the machine?", "geht das auch
# ohne KI?" and "I need to stop the bot" stay questions about the product.
_BOT_REFUSAL_LEAD = re.compile(
    r"^\W*(?:(?:ok|okay|hi|hello|hey|thanks|thank you|please|pls|just|seriously|again|and|"
    r"but|so|really|said|i|we|i'm|im|ich|je|yo|eu|io|ik|want|will|wil|voglio|quiero|quero|"
    r"veux|bitte|por favor|merci|gracias|obrigado|grazie|danke)\W+)*$"
)
# A question about the product's own bot or a captcha: "how do I stop the bot?",
# "the 'I'm not a robot' box is missing".
_BOT_TOPIC = re.compile(
    r"^\W*(?:how|where|what|which|when|why does|is (?:it|there)|can i|could i|do i|does)\b|"
    r"\b(?:i'?m|i am) not a robot\b|\bcaptcha\b"
)

# Negations that govern a request form when they end the text before it,
# optionally followed by the words in _NEGATION_GAP. Only a refusal of will
# or need counts: "can't" and "kann ich nicht" ask why a person is out of
# reach, which is a request.
_NEGATIONS = (
    # English: "I don't want to", "no need to", "I'd rather not", "no human".
    r"(?:do|does|did|would|will)\s*n[o']?t|won'?t|never|no longer|rather not|prefer not|"
    r"not interested in|not|no|without|no need(?:\s+(?:to|for))?",
    r"(?:(?:do|does|did|would|will)\s*n[o']?t|won'?t|never|no longer)\s+"
    r"(?:really\s+|even\s+|actually\s+)?(?:want|wanna|need|like|wish|ask\w*|request\w*|require)"
    r"(?:\s+(?:to|for))?",
    # Spanish: "no quiero", "no necesito", "no me pases", "sin", "ningún".
    r"no(?:\s+(?:me|nos))?(?:\s+(?:quiero|quisiera|necesito|deseo|hace falta))?|sin|"
    r"ningun[oa]?|nada de",
    # French: "je ne veux pas", "je n'ai pas besoin d'", "pas besoin de", "sans", "aucun".
    r"(?:ne|n')\s*(?:veux|voudrais|souhaite|desire|ai)\s+(?:pas|plus|jamais)"
    r"(?:\s+(?:besoin|envie)\s+(?:de|d'))?|pas (?:besoin|envie) (?:de|d')|sans|aucune?|"
    r"pas d'|pas de",
    # German: "ich möchte nicht", "ich brauche keinen", "ohne".
    r"(?:mochte|mochten|will|wollen|wollte|wollten|brauche|brauchen|muss|mussen)\s+"
    r"(?:ich\s+)?(?:nicht|nie|niemals|kein\w*)|kein\w*|ohne",
    # Portuguese: "não quero", "não preciso de", "sem", "nenhum".
    r"nao(?:\s+(?:quero|preciso|desejo|gostaria))?(?:\s+de)?|sem|nenhum\w*",
    # Italian: "non voglio", "non ho bisogno di", "senza", "nessun".
    r"non(?:\s+(?:voglio|vorrei|desidero|ho bisogno|mi serve))?(?:\s+(?:di|d'))?|senza|"
    r"nessun\w*",
    # Dutch: "ik wil niet", "ik hoef geen", "zonder". A bare "niet" is left
    # out, because "kan ik niet met een mens spreken?" is a request.
    r"(?:wil|wilt|willen|hoef|hoeft|moet)\s+(?:ik\s+)?(?:niet|geen)|geen|zonder",
    *more.NEGATIONS,
)
# Words that may stand between a negation and the request form it governs.
_NEGATION_GAP = (
    r"(?:to|me|us|be|any|an?|the|some|really|even|ever|"
    r"que|con|a|un|una|le|la|les|l'|de|d'|avec|einen|einem|einer|ein|mit|"
    r"um|uma|com|di|con|een|met|te)"
)
_NEGATED_LEAD = re.compile(
    rf"\b(?:{'|'.join(f'(?:{n})' for n in _NEGATIONS)})(?:\s+{_NEGATION_GAP}){{0,3}}\s*$"
    rf"|{more.NEGATED_LEAD_CJK}"
)
# Boundaries of a negation's scope: a comma, a dash or a word that starts a new thought.
_SCOPE_BREAK = re.compile(
    r"[,:()\u2013\u2014]|\s-\s|\b(?:but|just|only|instead|pero|solo|sino|mais|juste|"
    r"seulement|aber|sondern|nur|mas|apenas|ma|soltanto|maar|alleen)\b"
)
# A request that the customer denies having made is not one: "I never said I
# want a human", "je n'ai jamais dit que je voulais parler à un humain". The
# denial may stand anywhere before the request form in its scope.
_DENIED_REPORT = _patterns(
    # English: "I never said", "I didn't ask", "nobody asked", "I haven't requested".
    r"\b(?:never|not|nobody|no one|didn't|did not|don't|do not|haven't|have not)\s+"
    r"(?:\w+\s+){0,2}?(?:say|said|ask|asked|mention\w*|request\w*|tell|told)\b",
    # Spanish: "nunca dije", "no pedí", "nadie pidió".
    r"\b(?:nunca|jamas|no|nadie)\s+(?:\w+\s+){0,2}?"
    r"(?:dije|digo|dijo|pedi|pido|pidio|mencione|menciono|solicite)\b",
    # French: "je n'ai jamais dit", "je n'ai pas demandé", "personne n'a demandé".
    r"\b(?:jamais|pas|personne n'a)\s+(?:\w+\s+)?(?:dit|demande|mentionne|reclame)\b",
    # German: "ich habe nie gesagt", "ich sagte nicht", "niemand hat gefragt".
    r"\b(?:nie|niemals|nicht|niemand)\s+(?:\w+\s+){0,2}?"
    r"(?:gesagt|gefragt|verlangt|erwahnt|gebeten|sagte|fragte)\b",
    r"\b(?:sagte|fragte)\s+(?:ich\s+)?(?:nie|niemals|nicht)\b",
    # Portuguese: "eu nunca disse", "não pedi", "ninguém pediu".
    r"\b(?:nunca|nao|ninguem)\s+(?:\w+\s+){0,2}?(?:disse|digo|pedi|peco|pediu|mencionei)\b",
    # Italian: "non ho mai detto", "non ho chiesto", "nessuno ha chiesto".
    r"\b(?:mai|non|nessuno)\s+(?:\w+\s+){0,2}?(?:detto|dico|chiesto|menzionato|richiesto)\b",
    # Dutch: "ik heb nooit gezegd", "ik zei niet", "niemand vroeg".
    r"\b(?:nooit|niet|niemand)\s+(?:\w+\s+){0,2}?(?:gezegd|gevraagd|zei|vroeg|genoemd)\b",
    r"\b(?:zei|vroeg)\s+(?:ik\s+)?(?:niet|nooit)\b",
)
# A comma before "that" joins a report to what was reported, as German
# requires: "ich habe nie gesagt, dass ich ... will".
_COMMA_BEFORE_THAT = re.compile(r",\s*(?=(?:that|que|dass|che|dat)\b)")
# A question about who spoke of a person doubts the request instead of
# making it: "who said anything about a human?", "wer hat was von einem
# Menschen gesagt?". German puts the verb last, so the whole clause counts.
_WHO_REPORTED = re.compile(
    r"^\W*(?:who|quien|qui|wer|quem|chi|wie)\b[^,;:]*\b(?:said|says|asked|mentioned|requested|"
    r"talk\w* about|dijo|hablo de|pidio|menciono|dit|parle|demande|mentionne|gesagt|gefragt|"
    r"geredet|gesprochen|verlangt|erwahnt|falou|disse|pediu|mencionou|detto|parlato|chiesto|"
    r"menzionato|zei|vroeg|had het over|heeft het over|gezegd|gevraagd)\b"
)
# A reply that turns down an offer of a person: "talk to a person? no thanks".
_REFUSAL = re.compile(
    r"^\W*(?:(?:no|nope|nah)\W*(?:thanks|thank you|thx)|no gracias|non merci|nein danke|"
    r"nao obrigad[oa]|no grazie|nee dank\w*)\b"
)

# A question about the product's own people or roles is not a request for one.
_ABOUT_NOT_REQUEST = _patterns(
    r"\b(?:add|invite|remove|delete|create|assign|manage|edit)\w*\b[^.?!]{0,20}"
    r"\b(?:agent|team member|staff|employee|user|rep)s?\b",
    r"\bagent (?:role|permission|seat|license|status|capacity|skill)s?\b",
    # What a role may do: "a team member who can only read", "or do I need admin rights?"
    r"\b(?:who|that)\s+(?:can|may|could)\s+only\b",
    r"\b(?:do|does|would|will)\s+(?:i|we|they|you)\s+need\s+(?:an?\s+)?admin(?:istrator)?\s+"
    r"(?:rights|access|role|permissions?)\b",
    # What a product feature does: "will a representative check this automatically?"
    r"\b(?:can|could|will|would|do|does)\b[^.?!]{0,60}\bautomatic(?:ally)?\b",
    # A question about people in general, named in the plural: "can human
    # agents answer me in the widget?", "can staff members help us tag?"
    r"\b(?:can|could|will|would|do|does|may)\s+(?:(?:the|your|our)\s+)?(?:human\s+|live\s+)?"
    r"(?:agents|humans|staff members|team members|representatives|reps|operators|employees)\b",
)
# The operator or the agent, named with a definite article, asked to help
# with a task names what the product lets a role do: "can the operator help
# me export?". "Help me with billing", "help me out" and a bare "help me"
# stay requests, and so does any task asked of a real or live person or a
# human. "An agent" or "someone" asked to help is a request (see
# _ONE_HELPER).
_TASK_HELP = re.compile(
    r"\b(?:can|could|will|would|may)\s+(?:the|your)\s+(?:\w+\s+)?(?:operator|agent|rep|"
    r"representative|staff member|team member|employee)s?\s+(?:help|assist)\s+(?:me|us)\s+"
    r"(?:to\s+)?"
    r"(?!(?:with|out|please|pls|now|asap|here|today|on|regarding|about|in|for|quickly|right|"
    r"urgently|as|because|since|and|or|if|i|we|my|our|the|this|it|a|an|understand|figure|"
    r"sort|work out|make sense|resolve|fix|solve|deal with|look into|find out)\b)[a-z]+"
)
_REAL_PERSON = re.compile(r"\b(?:real|live|actual|humans?|human beings?|persons?)\b")
# Someone other than the customer talking to a person is a feature question:
# "can my customers chat with staff in the widget?"
_THIRD_PARTY_CONTACT = re.compile(
    r"\b(?:customers?|clients?|users?|visitors?|guests?|they|members?|patients?|students?)\b"
    r"(?:\s+\w+)?\s+(?:talk|speak|chat)\w*\s+(?:to|with)\b|"
    + "|".join(f"(?:{e})" for e in more.THIRD_PARTY)
)
# A clause ends at punctuation followed by a space or a letter of a script
# without spaces, so dotted names such as com.ibm.ws.xd.agent.hypervisor stay
# whole. The Chinese full stop and the Arabic question mark always end one.
_CLAUSE_END = re.compile(r"[.?!;]+(?=\s|$|[^\x00-\u024f])|[\u3002\u061f]+|\n+")


def _negated(clause: str, start: int) -> bool:
    """Tell whether a negation or a denied report governs the request form at ``start``."""
    lead = _COMMA_BEFORE_THAT.sub(" ", clause[:start])
    breaks = list(_SCOPE_BREAK.finditer(lead))
    if breaks:
        lead = lead[breaks[-1].end() :]
    return bool(_NEGATED_LEAD.search(lead) or _DENIED_REPORT.search(lead))


def _requests_in(clause: str) -> bool:
    if _WHO_REPORTED.search(clause):
        return False
    for form in _REQUEST_FORMS + _PASS_ON_FORMS:
        for match in form.finditer(clause):
            if not _negated(clause, match.start()):
                return True
    if _BOT_TOPIC.search(clause):
        return False
    for form in _BOT_REFUSAL_FORMS:
        for match in form.finditer(clause):
            if _BOT_REFUSAL_LEAD.match(clause[: match.start()]) and not _negated(
                clause, match.start()
            ):
                return True
    return False


def requested_human(message: str) -> bool:
    """Tell whether ``message`` requests to talk to a person."""
    folded = _TOPIC.sub(" topic ", fold(message))
    if _ABOUT_NOT_REQUEST.search(folded) and not re.search(r"\b(?:talk|speak)\b", folded):
        return False
    if _TASK_HELP.search(folded) and not _REAL_PERSON.search(folded):
        return False
    clauses = [clause.strip() for clause in _CLAUSE_END.split(folded)]
    for position, clause in enumerate(clauses):
        if _THIRD_PARTY_CONTACT.search(clause):
            continue
        following = clauses[position + 1] if position + 1 < len(clauses) else ""
        if _requests_in(clause) and not _REFUSAL.search(following):
            return True
    return False

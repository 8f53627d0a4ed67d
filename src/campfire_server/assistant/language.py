"""A cheap, offline guess of the language a customer writes in.

Scores the common function words of each supported language written in Latin
letters (English, German, French, Spanish, Portuguese, Italian, Dutch,
Polish, Turkish), the words that several of them share, and strong signals:
words and letters that only one of them uses. Russian, Korean and Arabic
are recognised by their scripts: each letter of the script is a strong signal.
Chinese and Japanese share the Chinese characters (kanji), so they are told
apart by evidence alone (``_han_evidence``):

* kana make a text Japanese, its kanji included;
* without kana, a character that the Japanese character set lacks ("们",
  "这", "你") counts for Chinese, a Japanese form that neither Chinese set
  has ("払", "悪", "対") counts for Japanese, a Chinese word such as
  "請問" or "退款" counts for Chinese, and Chinese function characters
  ("我", "的", "吗") count for Chinese as function words do;
* anything else, such as "返金希望", "担当者" or "了解", is kanji that
  both languages write, so it decides nothing.

A message decides only with enough evidence: at least ``MIN_EVIDENCE``
points and more than any other language. One strong signal is enough, so is
two function words, so one ordinary sentence ("Puis-je annuler mon
abonnement ?", "Come cambio la password?", "我要退款") decides. A word of
customer support ("Passwort", "remboursement") is worth one point less than
a decision, so with any other evidence it decides ("Passwort vergessen").
The letter hints of one language add at most three strong signals, so
accented loans ("crème brûlée") do not outweigh English words. Short, mixed
or kanji-only messages ("no more bots", "nao", "返金希望") fall back to the
customer's earlier messages, then to the customer's locale (the language of
the widget, which it stores in the conversation's ``metadata.locale``), then
to English, the language of the product's own texts.

Chinese comes in two written forms. A Chinese text whose characters are
more often traditional-only (in Big5 but not in GB 2312, such as "這", "請")
than simplified-only (the reverse, such as "这", "请") gets
``TRADITIONAL_CHINESE``, ``zh-Hant``, and otherwise ``zh``, the simplified form.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

DEFAULT_LANGUAGE = "en"
# The BCP 47 tag of Chinese in traditional characters (Taiwan, Hong Kong,
# Macau). ``zh`` alone is Chinese in simplified characters.
TRADITIONAL_CHINESE = "zh-Hant"
SUPPORTED_LANGUAGES = (
    "en",
    "de",
    "fr",
    "es",
    "pt",
    "it",
    "nl",
    "pl",
    "tr",
    "ru",
    "zh",
    "ja",
    "ko",
    "ar",
)
# Points a language needs before a text counts as written in it. A function
# word is worth 2 and a shared word 1, so one function word alone ("nao",
# "merci") is too little, because it is too often a loan or a typo.
MIN_EVIDENCE = 4
_FUNCTION_WORD_POINTS = 2
_SHARED_WORD_POINTS = 1
_STRONG_SIGNAL_POINTS = MIN_EVIDENCE

# Every word here points to one language. Words that several of these
# languages use are in _SHARED_WORDS, and "a", "e" and "do" are left out.
_FUNCTION_WORDS = {
    "en": """the is are and you my how what can do i to with for this it please not have
        want would could should does don't i'm there your help thanks our was where when
        why can't forgot need""",
    "de": """der die das und ist ich nicht mit ein eine einen einem einer wie kann mein meine
        meinen sie bitte mochte habe auf fur zu es was wo warum wird wurde danke hallo
        ihnen konnen mochten nach""",
    "fr": """le les et est je pas avec une des comment mon ma mes vous pour dans qui sur ne
        puis voudrais bonjour merci c'est j'ai mais votre suis est-ce au aux""",
    "es": """el los las y yo con una como mis usted para por favor hola gracias puedo
        quiero necesito esta tengo donde cuando pero mi hay al del estoy""",
    "pt": """os nao com um uma meu minha voce para por favor ola obrigado obrigada posso
        quero preciso estou tenho onde quando mas ao da na sua seu eu""",
    "it": """il lo gli non con un una mio mia per che sono posso vorrei grazie ciao
        buongiorno della del questo dove perche ho mi come al nel""",
    "nl": """het een en ik niet met hoe kan mijn u je voor dat wat waar waarom graag bedankt
        hallo wil heb van op te er ook maar zijn""",
    "pl": """jak czy jest nie mam moje moj moja dlaczego prosze dziekuje chce moge
        jestem ktory gdzie kiedy moim mnie sie juz bardzo tego""",
    "tr": """bir ve ile icin nasil neden degil lutfen tesekkurler merhaba istiyorum
        musteri hesabim bu cok ben ama kez hic daha yok""",
}
_WORDS = {language: frozenset(words.split()) for language, words in _FUNCTION_WORDS.items()}
# Words of customer support (refunds, passwords, orders, invoices, accounts)
# that only one of these languages writes, folded like every token. Each is
# worth _SUPPORT_WORD_POINTS, one short of a decision, so one such word
# with any other evidence decides ("Passwort vergessen", "Quiero un
# reembolso") but a lone word ("Rechnung") does not.
_SUPPORT_WORDS_BY_LANGUAGE = {
    "en": """refund refunds password order orders invoice invoices account charged billing
        cancel subscription delete login log update download shipping delivered payment
        crashed crashing upgrade discount package arrive email plan card refunded add-on""",
    "de": """passwort bestellung rechnung rechnungen abrechnung zahlung kundigen loschen anmelden
        lieferung versand zuruck ruckerstattung erstattung hilfe fehlgeschlagen falsch
        falscher geliefert kreditkarte aktualisieren herunterladen uberweisung zahlen bekommen
        beantragen funktioniert wann mitarbeiter sprechen dauert abgebucht doppelt abo
        kommt gibt fehler bezahlen verloren wechseln tarif gesperrt verspatet seite ladt
        erreiche kundigung vertrag kundendienst lieferzeit stornieren""",
    "fr": """remboursement rembourser commande commandes facture factures facturation livraison
        colis compte connecter connexion oublie annuler supprimer modifier changer telecharger
        paiement echoue recu virement bancaire conseiller delai aide besoin obtenir quand
        reinitialisation lien plante abime mot passe adresse invalide promo erreur retard
        forfait bloque perdu marche contacter joindre resilier expedition""",
    "es": """contrasena suscripcion factura facturas facturacion cuenta correo electronico
        aplicacion cierra eliminar rechazado enlace caducado actualizar tarjeta hablar
        descargar envio llego equivocado quiero transferencia descuento estudiantes ayuda
        obtengo iniciar sesion otra vez cobraron olvide retrasado pagar cambiar carga
        paquete contacto devolucion cobro""",
    "pt": """senha assinatura faturas conta entrar aplicativo sozinho excluir recusado
        encomenda cobranca expirou cobrado duas vezes atualizar cartao atendente baixar
        demora entrega recebi errado dinheiro volta boleto estudante faco obter mudar cade
        consigo chega atrasado erro trocar pacote carrega
        falo devolucao""",
    "it": """rimborso ottengo dimenticato ordine annullare abbonamento accedere fattura fatture
        fatturazione sbagliata sbagliato cambiare indirizzo chiude sempre eliminare riuscito
        pacco aiuto aggiornare credito parlare operatore scaricare spedizione ricevuto
        voglio bonifico sconto studenti arriva ritardo errore piano carica smarrito
        contatto bloccato bloccata pagare spedito reso""",
    "nl": """terug krijg wachtwoord vergeten bestelling opzeggen inloggen factuur facturen
        facturering klopt wijzigen crasht steeds verwijderen betaling mislukt wanneer pakket
        hulp verlopen afgeschreven keer betaalkaart bijwerken medewerker praten duurt
        levering verkeerd ontvangen terugbetaling aanvragen betalen overschrijving
        studentenkorting krijgen e-mailadres emailadres vertraagd fout kiezen kwijt
        geblokkeerd laadt bereik jullie retour""",
    "pl": """zwrot pieniedzy haslo hasla zamowienie anulowac subskrypcje zalogowac faktura bledna
        zmiana adresu aplikacja zawiesza usunac platnosc nieudana kiedy dotrze paczka
        pomoc rozliczeniem wygasl pobrano razy zaktualizowac karte rozmowa konsultantem
        pobrac ile trwa wysylka otrzymalem zly produkt zaplacic przelewem znizka studentow
        uzyskac zapomnialem""",
    "tr": """iade kargo kargom siparis siparisim sifre sifremi hesap hesabimi faturam odeme
        basarisiz zaman gelir kadar surer edilsin havale miyim indirim ogrenci yanlis urun
        geldi""",
}
_SUPPORT_WORD_POINTS = 3
# The maximum points that the letter hints of one language add to one text.
_MAX_LETTER_POINTS = 3 * _STRONG_SIGNAL_POINTS
_SUPPORT_WORDS = {
    language: frozenset(words.split()) for language, words in _SUPPORT_WORDS_BY_LANGUAGE.items()
}
# Words of one language that are no English word and seldom a loan, each
# enough alone. Accents are folded, so "perche" is "perché".
_STRONG_WORDS_BY_LANGUAGE = {
    "de": "ich nicht warum meine sind ihnen mochte",
    "fr": "pourquoi puis-je est-ce j'ai c'est n'arrive sont quel quelle vous voudrais",
    "es": "donde cuanto cuesta necesito usted estan olvide contrasena puedo",
    "pt": "voce estao minha minhas esqueci senha obrigado obrigada quero custa",
    "it": "perche vorrei sono riesco dimenticato costa",
    "nl": "waarom niet ik mijn wachtwoord",
    "pl": "dlaczego prosze dziekuje czy chce",
    "tr": "nasil lutfen tesekkurler istiyorum degil",
}
_STRONG_WORDS = {
    language: frozenset(words.split()) for language, words in _STRONG_WORDS_BY_LANGUAGE.items()
}
# Words that two or more of these languages use, worth one point to each of
# them. Together with one function word they decide: "come cambio la".
_SHARED_WORDS = {
    "la": ("fr", "es", "it"),
    "de": ("fr", "es", "pt", "nl"),
    "no": ("es", "it", "pt"),
    "se": ("fr", "es", "pt", "it"),
    "cambio": ("es", "it"),
    "quanto": ("pt", "it"),
    "plano": ("es", "pt"),
    "un": ("fr", "es", "it"),
    "le": ("fr", "it"),
    "me": ("es", "pt", "it"),
    "o": ("es", "pt", "it"),
    "reembolso": ("es", "pt"),
    "pedido": ("es", "pt"),
    "cancelar": ("es", "pt"),
    "pago": ("es", "pt"),
    "pagamento": ("pt", "it"),
    "fatura": ("pt", "tr"),
    "carta": ("es", "it"),
    "is": ("nl",),
    "abonnement": ("fr", "nl"),
    "vergessen": ("de", "nl"),
    "geld": ("de", "nl"),
    "komt": ("de", "nl"),
    "artikel": ("de", "nl"),
    "downloaden": ("de", "nl"),
    "konto": ("de", "pl"),
    "paket": ("de", "tr"),
    "ne": ("fr", "tr"),
    "pagina": ("es", "pt", "it"),
    "bloqueado": ("es", "pt"),
    "bloqueada": ("es", "pt"),
    "perdido": ("es", "pt"),
}
# A French elided article or pronoun ("d'aide", "j'ai", "qu'il") is worth a
# function word, and "l'" a shared word of French and Italian ("l'app").
_ELISION = re.compile(r"\b(?:(d|j|n|qu|c|m|s)|(l))['\u2019][a-z]")
# Letters that one language uses and the others seldom do, each a strong signal.
_LETTER_HINTS = {
    "es": re.compile(r"[ñ¿¡]|ción\b|ciones\b"),
    "pt": re.compile(r"[ãõ]"),
    "de": re.compile(r"[ßäöü]"),
    "fr": re.compile(r"[èëœîû]|\b(?:à|où)\b"),
    "it": re.compile(r"\b(?:è|perché|più)\b|zione\b|zioni\b"),
    "pl": re.compile(r"[łąęśźżćń]"),
    # A dotted capital "İ" lowers to "i" and a combining dot, which only Turkish writes.
    "tr": re.compile(r"[ığş\u0307]"),
}
# Letters that two or three of these languages write, worth a shared word to
# each: "ê" is French and Portuguese ("prêt", "você"), "ç" French and
# Portuguese, and "é" mostly French, so English loans ("café") stay English.
_SHARED_LETTERS = {
    "ê": ("fr", "pt"),
    "ç": ("fr", "pt"),
    "é": ("fr",),
}
# Scripts that name one supported language, each letter a strong signal.
# NOTE: Cyrillic counts as Russian and Arabic script as Arabic, so
# Ukrainian or Persian text gets Russian or Arabic texts.
_SCRIPTS = {
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "ja": re.compile(r"[\u3040-\u30ff]"),
    "ko": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
}
# Letters that Turkish shares with German and French: they count for Turkish
# too once the text has a letter only Turkish uses, so "görüşebilir" is Turkish.
_TURKISH_SHARED = re.compile(r"[öüç]")
# Chinese characters, which Japanese also writes.
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
# Characters of Chinese grammar (pronouns, particles, common verbs) that
# Japanese seldom writes alone. Each is worth a function word, so two decide:
# "我要退款" is Chinese, but "要確認" or "了解" is not decided by them.
_CHINESE_FUNCTION_CHARACTERS = frozenset(
    "我你您她们們的是了吗嗎呢吧啊这這么麼怎没沒很要想给給把让讓还還说說在"
)
# Chinese words, in both written forms, whose characters Japanese also
# writes but not as these words, so each is a strong signal: "請問",
# "没用" and "退款" are Chinese. Japanese writes "返金", "注文" and "パスワード".
_CHINESE_WORDS = re.compile(
    "请问|請問|谢谢|謝謝|没有|沒有|没用|沒用|可以|不行|退款|客服|密码|密碼|账户|帳戶|"
    "账号|帳號|订单|訂單|发票|發票|怎么|怎麼|什么|什麼|为什么|為什麼|一下|"
    "这个|這個|那个|那個|服务|服務|几点|幾點|超级|超級|透了|早晨|"
    # Cantonese, as Hong Kong customers write it.
    "唔该|唔該|多谢|多謝|激嬲|点解|點解|乜嘢|係咪|係唔係"
)
_TOKEN = re.compile(r"[a-z]+(?:['-][a-z]+)?")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=4096)
def _han_evidence(character: str) -> str | None:
    """Return the language that the Chinese character ``character`` points to, or None.

    The character sets decide: JIS X 0208 (encoded as Shift_JIS) contains
    the kanji of Japanese text and few simplified or Chinese-only
    characters. GB 2312 contains simplified Chinese and Big5 traditional
    Chinese, so a character in JIS X 0208 but in neither is a Japanese form.
    """
    if not _encodes(character, "shift_jis"):
        return "zh"
    if not _encodes(character, "gb2312") and not _encodes(character, "big5"):
        return "ja"
    return None


def _encodes(character: str, codec: str) -> bool:
    try:
        character.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _han_scores(text: str, scores: dict[str, int]) -> None:
    """Add the evidence of the Chinese characters of ``text`` to ``scores``."""
    characters = _HAN.findall(text)
    if scores["ja"]:
        # Kana make the whole text Japanese.
        scores["ja"] += _STRONG_SIGNAL_POINTS * len(characters)
        return
    scores["zh"] += _STRONG_SIGNAL_POINTS * len(_CHINESE_WORDS.findall(text))
    for character in characters:
        language = _han_evidence(character)
        if language is not None:
            scores[language] += _STRONG_SIGNAL_POINTS
        elif character in _CHINESE_FUNCTION_CHARACTERS:
            scores["zh"] += _FUNCTION_WORD_POINTS


def chinese_form(texts: Iterable[str]) -> str:
    """Return ``TRADITIONAL_CHINESE`` or ``zh`` for Chinese ``texts``, newest first.

    The first text with traditional-only or simplified-only characters
    decides, by which kind it has more of. Texts with neither, such as
    "你好", leave it to the next, and ``zh`` wins when none decides.
    """
    for text in texts:
        traditional = simplified = 0
        for character in _HAN.findall(text):
            in_big5 = _encodes(character, "big5")
            in_gb2312 = _encodes(character, "gb2312")
            traditional += in_big5 and not in_gb2312
            simplified += in_gb2312 and not in_big5
        if traditional != simplified:
            return TRADITIONAL_CHINESE if traditional > simplified else "zh"
    return "zh"


def language_scores(text: str) -> dict[str, int]:
    """Return the evidence points of each language in ``text``."""
    scores = dict.fromkeys(SUPPORTED_LANGUAGES, 0)
    lowered = text.lower()
    for word in _TOKEN.findall(_fold(text)):
        for language, words in _WORDS.items():
            if word in words:
                scores[language] += _FUNCTION_WORD_POINTS
        for language, words in _STRONG_WORDS.items():
            if word in words:
                scores[language] += _STRONG_SIGNAL_POINTS
        for language, words in _SUPPORT_WORDS.items():
            if word in words:
                scores[language] += _SUPPORT_WORD_POINTS
        for language in _SHARED_WORDS.get(word, ()):
            scores[language] += _SHARED_WORD_POINTS
    for french_only, _french_or_italian in _ELISION.findall(_fold(text)):
        scores["fr"] += _FUNCTION_WORD_POINTS if french_only else _SHARED_WORD_POINTS
        if not french_only:
            scores["it"] += _SHARED_WORD_POINTS
    for letter, languages in _SHARED_LETTERS.items():
        for language in languages:
            scores[language] += _SHARED_WORD_POINTS * lowered.count(letter)
    letters = dict.fromkeys(SUPPORTED_LANGUAGES, 0)
    for language, hint in _LETTER_HINTS.items():
        letters[language] += _STRONG_SIGNAL_POINTS * len(hint.findall(lowered))
    if _LETTER_HINTS["tr"].search(lowered):
        letters["tr"] += _STRONG_SIGNAL_POINTS * len(_TURKISH_SHARED.findall(lowered))
    for language, points in letters.items():
        # Letters alone decide ("Çok yavaş"), but loans with accents ("crème
        # brûlée") cannot outweigh the words of another language.
        scores[language] += min(points, _MAX_LETTER_POINTS)
    for language, script in _SCRIPTS.items():
        scores[language] += _STRONG_SIGNAL_POINTS * len(script.findall(text))
    _han_scores(text, scores)
    return scores


def locale_language(locale: object) -> str | None:
    """Return the supported language of the BCP 47 tag ``locale`` ("ja-JP", "zh-TW"), or None.

    Chinese tags with the Hant script or the region TW, HK or MO, and
    without the Hans script, are ``TRADITIONAL_CHINESE``.
    """
    if not isinstance(locale, str):
        return None
    subtags = locale.lower().replace("_", "-").split("-")
    if subtags[0] == "zh":
        rest = set(subtags[1:])
        if "hans" not in rest and rest & {"hant", "tw", "hk", "mo"}:
            return TRADITIONAL_CHINESE
    return subtags[0] if subtags[0] in SUPPORTED_LANGUAGES else None


def detect_language(message: str, earlier: Iterable[str] = (), locale: object = None) -> str:
    """Return the code of the language of ``message``, or of ``earlier`` customer turns.

    ``earlier`` contains the customer's previous messages, newest first, and they
    decide when ``message`` alone has no clear winner ("ok", "Thanks!", "nao").
    A text has a winner when one language has at least ``MIN_EVIDENCE`` points
    and more than any other. When no text has one, the customer's ``locale``
    decides if it names a supported language (``locale_language``), else
    ``DEFAULT_LANGUAGE``.
    Chinese is returned as ``zh`` or ``TRADITIONAL_CHINESE``, in the form of
    the text that decided or of the earlier messages (``chinese_form``).
    """
    texts = (message, *earlier)
    for index, text in enumerate(texts):
        scores = language_scores(text)
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        (best, top), (_, second) = ranked[0], ranked[1]
        if top >= MIN_EVIDENCE and top > second:
            return chinese_form(texts[index:]) if best == "zh" else best
    return locale_language(locale) or DEFAULT_LANGUAGE

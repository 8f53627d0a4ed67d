import pytest

from campfire_server.assistant.language import DEFAULT_LANGUAGE, detect_language
from tests.assistant.short_messages import ENGLISH_WITH_LOANWORDS, SHORT_MESSAGES

MESSAGES = [
    ("en", "How do I change the card that my subscription is billed to?"),
    ("en", "My bookings are not showing up in my calendar"),
    ("de", "Wie kann ich meine Rechnung herunterladen?"),
    ("de", "Ich möchte mein Passwort ändern, aber die E-Mail kommt nicht an."),
    ("fr", "Comment est-ce que je peux changer mon mot de passe ?"),
    ("fr", "Je ne trouve pas la facture de mon abonnement."),
    ("es", "¿Cómo puedo cambiar la tarjeta de mi suscripción?"),
    ("es", "No encuentro mis facturas, necesito ayuda por favor"),
    ("pt", "Não consigo encontrar a minha fatura, você pode ajudar?"),
    ("pt", "Como posso mudar o meu plano?"),
    ("it", "Non riesco a trovare la mia fattura, potete aiutarmi?"),
    ("it", "Vorrei cambiare il mio piano, come posso fare?"),
    ("nl", "Hoe kan ik mijn wachtwoord wijzigen?"),
    ("nl", "Ik wil mijn abonnement opzeggen, maar ik vind de knop niet."),
]


@pytest.mark.parametrize(("language", "message"), MESSAGES)
def test_language_of_message_detected(language, message):
    assert detect_language(message) == language


def test_short_message_uses_earlier_turns():
    earlier = ["Ich habe eine Frage zu meiner Rechnung, bitte."]
    assert detect_language("ok", earlier) == "de"


def test_unclear_message_falls_back_to_english():
    assert detect_language("ok") == DEFAULT_LANGUAGE
    assert detect_language("") == DEFAULT_LANGUAGE
    assert detect_language("SQL0805N 8.5.5.2") == DEFAULT_LANGUAGE


@pytest.mark.parametrize("message", ["no more bots", "no more", "nao", "no", "gracias", "merci"])
def test_one_word_of_evidence_falls_back_to_english(message):
    assert detect_language(message) == "en"


def test_one_word_of_evidence_uses_earlier_turns():
    earlier = ["Ich habe eine Frage zu meiner Rechnung, bitte."]
    assert detect_language("no more bots", earlier) == "de"
    assert detect_language("nao", earlier) == "de"


def test_two_words_of_evidence_decide():
    assert detect_language("Obrigado, não quero") == "pt"
    assert detect_language("ciao, grazie") == "it"


# About ten ordinary support sentences per supported language. Each one alone
# must decide the reply language, short ones included.
SENTENCES = {
    "en": [
        "How do I cancel my subscription?",
        "Where are my invoices?",
        "Why did my payment fail?",
        "Can I change the email on my account?",
        "The calendar sync stopped working yesterday",
        "Please send me the receipt for March",
        "Is there a discount for yearly plans?",
        "Come back to the booking page after paying",
        "Refund policy for annual plans",
        "Widget not loading on Safari",
    ],
    "fr": [
        "Puis-je annuler mon abonnement ?",
        "Où sont mes factures ?",
        "Pourquoi mon paiement a échoué ?",
        "Comment changer mon mot de passe ?",
        "J'ai oublié mon mot de passe",
        "Je n'arrive pas à me connecter",
        "Est-ce que vous acceptez PayPal ?",
        "Mon calendrier ne se synchronise plus",
        "Quel est le prix du forfait annuel ?",
        "Le widget ne s'affiche pas sur mon site",
    ],
    "es": [
        "¿Puedo cancelar mi suscripción?",
        "¿Dónde están mis facturas?",
        "¿Por qué falló mi pago?",
        "¿Cómo cambio mi contraseña?",
        "Olvidé mi contraseña",
        "No puedo iniciar sesión en mi cuenta",
        "Necesito cambiar el correo de la cuenta",
        "El calendario no se sincroniza",
        "¿Cuánto cuesta el plan anual?",
        "Quiero añadir otro usuario",
    ],
    "pt": [
        "Posso cancelar minha assinatura?",
        "Onde estão minhas faturas?",
        "Por que meu pagamento falhou?",
        "Como eu mudo minha senha?",
        "Esqueci minha senha",
        "Não consigo entrar na minha conta",
        "Preciso mudar o e-mail da conta",
        "O calendário não sincroniza",
        "Quanto custa o plano anual?",
        "Quero adicionar outro usuário",
    ],
    "de": [
        "Kann ich mein Abo kündigen?",
        "Wo sind meine Rechnungen?",
        "Warum ist meine Zahlung fehlgeschlagen?",
        "Wie ändere ich mein Passwort?",
        "Ich habe mein Passwort vergessen",
        "Ich kann mich nicht anmelden",
        "Der Kalender synchronisiert nicht mehr",
        "Was kostet der Jahresplan?",
        "Bitte schicken Sie mir die Rechnung",
        "Das Widget wird auf meiner Seite nicht angezeigt",
    ],
    "it": [
        "Come cambio la password?",
        "Posso annullare il mio abbonamento?",
        "Dove sono le mie fatture?",
        "Perché il mio pagamento non è andato a buon fine?",
        "Ho dimenticato la password",
        "Non riesco ad accedere",
        "Il calendario non si sincronizza più",
        "Quanto costa il piano annuale?",
        "Vorrei aggiungere un altro utente",
        "Il widget non compare sul mio sito",
    ],
    "nl": [
        "Kan ik mijn abonnement opzeggen?",
        "Waar zijn mijn facturen?",
        "Waarom is mijn betaling mislukt?",
        "Hoe wijzig ik mijn wachtwoord?",
        "Ik ben mijn wachtwoord vergeten",
        "Ik kan niet inloggen",
        "De agenda synchroniseert niet meer",
        "Wat kost het jaarabonnement?",
        "Ik wil een gebruiker toevoegen",
        "De widget verschijnt niet op mijn site",
    ],
}
SENTENCE_CASES = [(language, text) for language, texts in SENTENCES.items() for text in texts]


@pytest.mark.parametrize(("language", "message"), SENTENCE_CASES)
def test_one_sentence_decides_language(language, message):
    assert detect_language(message) == language


@pytest.mark.parametrize("message", ["no more bots", "no more", "nao", "no bot", "merci"])
def test_ambiguous_short_text_is_english(message):
    assert detect_language(message) == "en"


# Chinese and Japanese -------------------------------------------------------------

CHINESE_AND_JAPANESE = [
    ("zh", "我要退款"),
    ("zh", "我的账号被盗了"),
    ("zh", "没用"),
    ("zh-Hant", "請問如何退款"),
    ("zh-Hant", "我的帳號被盜了"),
    ("zh-Hant", "我想退款，請幫我看看這個訂單"),
    ("zh-Hant", "謝謝"),
    ("zh-Hant", "這個不爛"),
    ("zh-Hant", "專人服務時間是幾點？"),
    ("zh-Hant", "爛透了"),
    ("zh-Hant", "超級爛的服務"),
    ("zh-Hant", "點解咁慢"),
    ("zh", "激嬲"),
    ("zh", "早晨"),
    ("zh", "这个不烂"),
    ("ja", "サービス時間は何時ですか"),
    ("ja", "最悪"),
    ("ja", "至急対応願います"),
    ("ja", "担当者をお願いします"),
    ("ja", "問題があります"),
]


@pytest.mark.parametrize(("language", "message"), CHINESE_AND_JAPANESE)
def test_chinese_and_japanese_told_apart(language, message):
    assert detect_language(message) == language


@pytest.mark.parametrize("message", ["返金希望", "担当者", "了解", "個人情報"])
def test_kanji_only_decided_by_earlier_turns(message):
    assert detect_language(message) == DEFAULT_LANGUAGE
    assert detect_language(message, ["パスワードをリセットするには？"]) == "ja"
    assert detect_language(message, ["怎么重置密码？"]) == "zh"
    assert detect_language(message, ["請問怎麼重設密碼？"]) == "zh-Hant"


def test_shared_characters_take_earlier_chinese_form():
    assert detect_language("你好") == "zh"
    assert detect_language("你好", ["我的帳號被盜了"]) == "zh-Hant"
    assert detect_language("你好", ["我的账号被盗了"]) == "zh"


@pytest.mark.parametrize(
    ("locale", "language"),
    [("ja", "ja"), ("ja-JP", "ja"), ("zh-CN", "zh"), ("zh-TW", "zh-Hant"), ("zh_hant", "zh-Hant")],
)
def test_kanji_only_decided_by_locale(locale, language):
    assert detect_language("担当者", locale=locale) == language


def test_locale_after_earlier_turns():
    assert detect_language("担当者", ["我的发票在哪里？"], locale="ja") == "zh"
    assert detect_language("返金希望", locale="sv-SE") == DEFAULT_LANGUAGE
    assert detect_language("返金希望", locale="") == DEFAULT_LANGUAGE
    # A message with evidence of its own ignores the locale.
    assert detect_language("最悪", locale="zh-CN") == "ja"


SHORT_CASES = [
    (language, message) for language, messages in SHORT_MESSAGES.items() for message in messages
]


@pytest.mark.parametrize(("language", "message"), SHORT_CASES)
def test_short_support_message_detected(language, message):
    assert detect_language(message) == language


@pytest.mark.parametrize("message", ENGLISH_WITH_LOANWORDS)
def test_english_with_loanwords_stays_english(message):
    assert detect_language(message) == "en"

"""Frustration, complaints, sensitive topics and small talk in Russian, Polish, Turkish,
Chinese, Japanese, Korean and Arabic: the detectors, then the replies over real HTTP."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from campfire_server.assistant import handoff
from campfire_server.assistant.acknowledgements import acknowledgement
from campfire_server.assistant.engine import SMALL_TALK_MODEL
from campfire_server.assistant.handoff import HandoffReason
from campfire_server.assistant.language import detect_language
from campfire_server.assistant.sensitive import SensitiveTopic, sensitive_topic
from campfire_server.assistant.small_talk import (
    SmallTalk,
    match_small_talk,
    reply_language,
    small_talk_reply,
)
from campfire_server.knowledge import importer
from tests.assistant.conftest import DEMO_KNOWLEDGE
from tests.conftest import LiveServer, Tenant, make_tenant, start_server
from tests.helpers import create_conversation, send_message

LANGUAGES = ("ru", "pl", "tr", "zh", "ja", "ko", "ar")

# Frustration, anger and complaints about the help: each hands off as negative sentiment.
NEGATIVE = {
    "ru": [
        "Это ужасно, я зол",
        "Надоело, сколько можно ждать!",
        "Худший сервис, который я видел",
        "Вы мне не помогаете",
        "Это не то, что я спрашивал",
        "Я уже пробовал, не помогло",
    ],
    "pl": [
        "To jest skandal, jestem wściekły",
        "Mam dość tej obsługi",
        "Najgorsza obsługa w życiu",
        "Nie pomagasz mi, to już trzeci raz",
        "Nie o to pytałem",
        "To nie zadziałało",
    ],
    "tr": [
        "Bıktım artık, rezalet!",
        "Çok sinirliyim, yeter artık",
        "Şu ana kadarki en kötü hizmet",
        "Bana hiç yardımcı olmuyorsunuz",
        "Sorduğum bu değil",
        "Bu işe yaramadı",
    ],
    "zh": [
        "气死我了",
        "太差了，受够了",
        "我要投诉你们",
        "你根本没帮到我",
        "答非所问",
        "没用",
        "试过了，还是不行",
    ],
    "ja": [
        "最悪です",
        "ふざけるな",
        "本当にムカつく",
        "時間の無駄でした",
        "このボットは全然役に立たない",
        "聞いたことと違います",
        "もう試しました",
    ],
    "ko": [
        "정말 짜증나요",
        "화가 나네요",
        "어이가 없네요",
        "제가 물어본 게 아니에요",
        "도움이 전혀 안 돼요",
        "이미 해 봤어요",
    ],
    "ar": [
        "أنا غاضب جدا",
        "هذا غير مقبول",
        "أسوأ خدمة على الإطلاق",
        "أنت لا تساعدني",
        "هذا ليس ما سألت عنه",
        "لم ينجح",
    ],
}

# Product questions and problem reports that contain a word of those phrases.
NOT_NEGATIVE = {
    "ru": [
        "Как вернуть деньги, если обновление не помогло?",
        "Мой вебхук не работает",
        "Почему письмо не приходит, если я уже пробовал сбросить пароль?",
    ],
    "pl": ["Mój webhook nie działa", "Czy to nie zadziałało przez limit?"],
    "tr": ["Webhook'um çalışmıyor", "Neden bu işe yaramadı?"],
    "zh": [
        "垃圾邮件文件夹在哪里？",
        "试过了吗？",
        "我的网站打不开了怎么办",
        "妈妈的账户怎么登录？",
    ],
    "ja": ["最悪の場合データは消えますか", "もう試しましたか", "最低料金はいくらですか"],
    "ko": [
        "대화나 메시지를 내보내려면 어떻게 하나요?",
        "최악의 경우 데이터가 삭제되나요?",
        "웹훅이 작동하지 않아요",
    ],
    "ar": ["هل لم ينجح الدفع؟", "كيف أقدم شكوى لعميل؟"],
}

SENSITIVE = {
    "ru": [
        ("С меня дважды списали деньги", SensitiveTopic.BILLING_DISPUTE),
        ("Верните мои деньги!", SensitiveTopic.BILLING_DISPUTE),
        ("Хочу вернуть деньги за подписку", SensitiveTopic.BILLING_DISPUTE),
        ("Мой аккаунт взломали", SensitiveTopic.ACCOUNT_SECURITY),
        ("Кто-то зашёл в мой аккаунт", SensitiveTopic.ACCOUNT_SECURITY),
    ],
    "pl": [
        ("Pobrano ode mnie opłatę dwa razy", SensitiveTopic.BILLING_DISPUTE),
        ("Chcę zwrotu pieniędzy", SensitiveTopic.BILLING_DISPUTE),
        ("Ktoś włamał się na moje konto", SensitiveTopic.ACCOUNT_SECURITY),
        ("Moje konto zostało zhakowane", SensitiveTopic.ACCOUNT_SECURITY),
    ],
    "tr": [
        ("İki kez ücret çekildi", SensitiveTopic.BILLING_DISPUTE),
        ("Paramı geri istiyorum", SensitiveTopic.BILLING_DISPUTE),
        ("Hesabım hacklendi", SensitiveTopic.ACCOUNT_SECURITY),
        ("Biri hesabıma girdi", SensitiveTopic.ACCOUNT_SECURITY),
    ],
    "zh": [
        ("扣了我两次款", SensitiveTopic.BILLING_DISPUTE),
        ("我要退款", SensitiveTopic.BILLING_DISPUTE),
        ("重复扣款了，怎么办？", SensitiveTopic.BILLING_DISPUTE),
        ("我的账号被盗了", SensitiveTopic.ACCOUNT_SECURITY),
        ("有人登录了我的账户", SensitiveTopic.ACCOUNT_SECURITY),
    ],
    "ja": [
        ("二重に請求されました", SensitiveTopic.BILLING_DISPUTE),
        ("返金してください", SensitiveTopic.BILLING_DISPUTE),
        ("アカウントが乗っ取られました", SensitiveTopic.ACCOUNT_SECURITY),
        ("不正ログインされたようです", SensitiveTopic.ACCOUNT_SECURITY),
    ],
    "ko": [
        ("두 번 결제됐어요", SensitiveTopic.BILLING_DISPUTE),
        ("환불해 주세요", SensitiveTopic.BILLING_DISPUTE),
        ("계정이 해킹당했어요", SensitiveTopic.ACCOUNT_SECURITY),
        ("로그인한 적이 없는데 로그인 알림이 왔어요", SensitiveTopic.ACCOUNT_SECURITY),
    ],
    "ar": [
        ("تم خصم المبلغ مرتين", SensitiveTopic.BILLING_DISPUTE),
        ("أريد استرداد أموالي", SensitiveTopic.BILLING_DISPUTE),
        ("تم اختراق حسابي", SensitiveTopic.ACCOUNT_SECURITY),
        ("سرقوا حسابي", SensitiveTopic.ACCOUNT_SECURITY),
    ],
}

# Questions about refunds and security features, and a merchant's how-to
# about one of their own customers.
NOT_SENSITIVE = {
    "ru": [
        "Сколько занимает возврат?",
        "Как вернуть деньги клиенту, с которого списали дважды?",
        "Как включить двухфакторную аутентификацию?",
    ],
    "pl": ["Jak długo trwa zwrot?", "Jak włączyć uwierzytelnianie dwuskładnikowe?"],
    "tr": ["İade ne kadar sürer?", "İki adımlı doğrulamayı nasıl açarım?"],
    "zh": ["退款需要多久？", "如何给被扣了两次款的客户退款？", "我没有登录权限怎么办？"],
    "ja": ["返金にはどのくらいかかりますか？", "お客様が二重に請求された場合の返金方法は？"],
    "ko": ["환불은 얼마나 걸리나요?", "계정 해킹을 방지하려면 어떻게 하나요?"],
    "ar": ["كم يستغرق الاسترداد؟", "كيف أمنع اختراق حسابي؟"],
}

SMALL_TALK = {
    "ru": [
        ("Привет!", SmallTalk.GREETING),
        ("Здравствуйте", SmallTalk.GREETING),
        ("Спасибо большое!", SmallTalk.THANKS),
        ("спс", SmallTalk.THANKS),
        ("Понятно", SmallTalk.ACKNOWLEDGEMENT),
        ("Нет, спасибо", SmallTalk.FAREWELL),
        ("До свидания", SmallTalk.FAREWELL),
    ],
    "pl": [
        ("Dzień dobry", SmallTalk.GREETING),
        ("Cześć!", SmallTalk.GREETING),
        ("Dziękuję bardzo", SmallTalk.THANKS),
        ("Wielkie dzięki", SmallTalk.THANKS),
        ("Miłego dnia!", SmallTalk.FAREWELL),
    ],
    "tr": [
        ("Günaydın", SmallTalk.GREETING),
        ("Teşekkür ederim", SmallTalk.THANKS),
        ("Çok teşekkürler", SmallTalk.THANKS),
        ("Anladım", SmallTalk.ACKNOWLEDGEMENT),
        ("Hoşça kalın", SmallTalk.FAREWELL),
    ],
    "zh": [
        ("你好", SmallTalk.GREETING),
        ("您好！", SmallTalk.GREETING),
        ("谢谢", SmallTalk.THANKS),
        ("谢谢啦~", SmallTalk.THANKS),
        ("好的，明白了", SmallTalk.ACKNOWLEDGEMENT),
        ("不用了，谢谢", SmallTalk.FAREWELL),
        ("再见", SmallTalk.FAREWELL),
    ],
    "ja": [
        ("こんにちは", SmallTalk.GREETING),
        ("ありがとう", SmallTalk.THANKS),
        ("ありがとうございます！", SmallTalk.THANKS),
        ("わかりました", SmallTalk.ACKNOWLEDGEMENT),
        ("いいえ、大丈夫です", SmallTalk.FAREWELL),
        ("さようなら", SmallTalk.FAREWELL),
    ],
    "ko": [
        ("안녕하세요", SmallTalk.GREETING),
        ("감사합니다", SmallTalk.THANKS),
        ("감사 합니다", SmallTalk.THANKS),
        ("알겠습니다", SmallTalk.ACKNOWLEDGEMENT),
        ("안녕히 계세요", SmallTalk.FAREWELL),
    ],
    "ar": [
        ("مرحبا", SmallTalk.GREETING),
        ("السلام عليكم", SmallTalk.GREETING),
        ("شكراً جزيلاً", SmallTalk.THANKS),
        ("شكرا جزيلا لك", SmallTalk.THANKS),
        ("تمام", SmallTalk.ACKNOWLEDGEMENT),
        ("لا، شكرا", SmallTalk.FAREWELL),
        ("مع السلامة", SmallTalk.FAREWELL),
    ],
}

# Questions that open with small talk or name a page or product after it.
NOT_SMALL_TALK = {
    "ru": ["Привет, мой счёт неверный", "Спасибо, а как экспортировать данные?", "нет"],
    "pl": ["Dzień dobry, jak zmienić hasło?", "Dziękuję, ale jak eksportować dane?", "nie"],
    "tr": ["Merhaba, faturam yanlış", "Teşekkürler sayfası nasıl ayarlanır?", "hayır"],
    "zh": ["你好，我的发票错了", "谢谢页面怎么设置？", "好的，那怎么导出数据？", "不"],
    "ja": ["こんにちは、請求書が間違っています", "ありがとうページの設定方法は？", "いいえ"],
    "ko": ["안녕하세요, 청구서가 잘못됐어요", "감사 페이지는 어떻게 설정하나요?", "아니요"],
    "ar": ["مرحبا، لدي سؤال عن الفاتورة", "شكرا، كيف أصدر البيانات؟", "لا"],
}


def cases(table: dict[str, list]) -> list[tuple]:
    return [(language, case) for language, entries in table.items() for case in entries]


@pytest.mark.parametrize(("language", "message"), cases(NEGATIVE))
def test_negative_recognised(language: str, message: str) -> None:
    assert handoff.negative_sentiment(message)
    assert handoff.before_answer([], message).reason is HandoffReason.NEGATIVE_SENTIMENT
    assert detect_language(message) == language


@pytest.mark.parametrize(("language", "message"), cases(NOT_NEGATIVE))
def test_product_question_not_negative(language: str, message: str) -> None:
    assert not handoff.negative_sentiment(message)


@pytest.mark.parametrize(("language", "case"), cases(SENSITIVE))
def test_sensitive_recognised(language: str, case: tuple[str, SensitiveTopic]) -> None:
    message, topic = case
    assert sensitive_topic(message) is topic
    decision = handoff.before_answer([], message)
    assert decision.reason is HandoffReason.OUT_OF_SCOPE
    assert decision.topic is topic
    assert detect_language(message) == language


@pytest.mark.parametrize(("language", "message"), cases(NOT_SENSITIVE))
def test_how_to_question_not_sensitive(language: str, message: str) -> None:
    assert sensitive_topic(message) is None


@pytest.mark.parametrize(("language", "case"), cases(SMALL_TALK))
def test_small_talk_recognised(language: str, case: tuple[str, SmallTalk]) -> None:
    message, kind = case
    match = match_small_talk(message)
    assert match is not None
    assert match.kind is kind
    assert match.languages == frozenset({language})
    assert not handoff.before_answer([], message).should_handoff


@pytest.mark.parametrize(("language", "message"), cases(NOT_SMALL_TALK))
def test_question_not_small_talk(language: str, message: str) -> None:
    assert match_small_talk(message) is None


# A question in each language, before a bare "ok".
EARLIER_QUESTIONS = {
    "ru": "Как сбросить пароль?",
    "pl": "Jak zmienić hasło?",
    "tr": "Şifremi nasıl sıfırlarım?",
    "zh": "怎么重置密码？",
    "ja": "パスワードをリセットするには？",
    "ko": "비밀번호를 어떻게 재설정하나요?",
    "ar": "كيف أعيد تعيين كلمة المرور؟",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_ok_follows_earlier_language(language: str) -> None:
    match = match_small_talk("ok")
    assert match is not None
    assert reply_language(match, [EARLIER_QUESTIONS[language]]) == language


@pytest.mark.parametrize("message", ["Спасибо!!!", "Dzięki!!!", "Teşekkürler!!!", "谢谢!!!"])
def test_emphatic_thanks_not_frustration(message: str) -> None:
    assert match_small_talk(message) is not None
    assert not handoff.negative_sentiment(message)


@pytest.mark.parametrize("message", ["спасибо 😡", "ありがとう 👎"])
def test_thanks_with_angry_emoji_negative(message: str) -> None:
    assert handoff.negative_sentiment(message)


def test_small_talk_limit_for_unspaced_scripts() -> None:
    assert match_small_talk("どうもありがとうございました") is not None
    assert match_small_talk("ありがとう" * 5) is None


# Over HTTP -------------------------------------------------------------------

# Generous limits, because one test sends a few dozen requests in a row.
_NO_LIMITS = {
    "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
    "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "100000",
}


@pytest.fixture(scope="module")
def detector_server(db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(db.url, tmp_path_factory.mktemp("detector-server"), env=_NO_LIMITS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def demo_tenant(db, detector_server: LiveServer) -> Tenant:
    """A tenant whose knowledge base is the demo articles, imported over HTTP."""
    tenant = await make_tenant(db, "Languages org")
    rows = [
        item.model_dump(mode="json", by_alias=True, exclude_none=True)
        for item in importer.read_source(Path(DEMO_KNOWLEDGE))
    ]
    async with httpx.AsyncClient(base_url=detector_server.api, timeout=60) as http:
        response = await http.post(
            "/knowledge/articles/import", json={"articles": rows}, headers=tenant.headers
        )
    assert response.status_code == 200, response.text
    return tenant


@pytest.fixture
async def http(detector_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=detector_server.api, timeout=60) as client:
        yield client


async def reply_to(
    http: httpx.AsyncClient,
    tenant: Tenant,
    message: str,
    earlier: tuple[str, ...] = (),
    metadata: dict | None = None,
) -> dict:
    """Send ``message`` in a new conversation to /ai/generate-response and return the body.

    The customer's ``earlier`` messages, oldest first, are stored in the
    conversation first. ``metadata`` is the conversation's.
    """
    if metadata is None:
        conversation = await create_conversation(http, tenant)
    else:
        conversation = await create_conversation(http, tenant, metadata=metadata)
    for text in earlier:
        sent = await send_message(http, tenant, conversation["id"], text)
        assert sent.status_code == 201, sent.text
    response = await http.post(
        "/ai/generate-response",
        json={
            "conversationId": conversation["id"],
            "messageContent": message,
            "context": {"knowledgeBaseEnabled": True},
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_http_negative_replies(http, demo_tenant, language: str) -> None:
    expected = acknowledgement(HandoffReason.NEGATIVE_SENTIMENT, language)
    for message in NEGATIVE[language]:
        body = await reply_to(http, demo_tenant, message)
        assert body["shouldHandoff"] is True, message
        assert body["handoffReason"] == "negative_sentiment", message
        assert body["content"] == expected, message
    for message in NOT_NEGATIVE[language]:
        body = await reply_to(http, demo_tenant, message)
        assert body["handoffReason"] != "negative_sentiment", message


@pytest.mark.parametrize("language", LANGUAGES)
async def test_http_sensitive_replies(http, demo_tenant, language: str) -> None:
    for message, topic in SENSITIVE[language]:
        body = await reply_to(http, demo_tenant, message)
        assert body["shouldHandoff"] is True, message
        assert body["handoffReason"] == "out_of_scope", message
        assert body["sources"] == [], message
        assert body["content"] == acknowledgement(HandoffReason.OUT_OF_SCOPE, language, topic)
    topic_replies = {
        acknowledgement(HandoffReason.OUT_OF_SCOPE, language, topic) for topic in SensitiveTopic
    }
    for message in NOT_SENSITIVE[language]:
        body = await reply_to(http, demo_tenant, message)
        assert body["content"] not in topic_replies, message


@pytest.mark.parametrize("language", LANGUAGES)
async def test_http_small_talk_replies(http, demo_tenant, language: str) -> None:
    for message, kind in SMALL_TALK[language]:
        body = await reply_to(http, demo_tenant, message)
        assert body["shouldHandoff"] is False, message
        assert body["handoffReason"] is None, message
        assert body["model"] == SMALL_TALK_MODEL, message
        assert body["content"] == small_talk_reply(kind, language), message
    for message in NOT_SMALL_TALK[language]:
        body = await reply_to(http, demo_tenant, message)
        assert body["model"] != SMALL_TALK_MODEL, message


# A customer who writes traditional characters gets the texts in traditional characters.
TRADITIONAL = [
    ("我想和真人說話", acknowledgement(HandoffReason.REQUESTED_HUMAN, "zh-Hant")),
    ("我要投訴你們", acknowledgement(HandoffReason.NEGATIVE_SENTIMENT, "zh-Hant")),
    (
        "我的帳號被盜了",
        acknowledgement(HandoffReason.OUT_OF_SCOPE, "zh-Hant", SensitiveTopic.ACCOUNT_SECURITY),
    ),
    ("謝謝", small_talk_reply(SmallTalk.THANKS, "zh-Hant")),
    ("非常感謝", small_talk_reply(SmallTalk.THANKS, "zh-Hant")),
]


async def test_http_traditional_chinese_replies(http, demo_tenant) -> None:
    for message, expected in TRADITIONAL:
        body = await reply_to(http, demo_tenant, message)
        assert body["content"] == expected, message
        assert "这" not in body["content"], message
        assert "们" not in body["content"], message


async def test_http_kanji_only_request_follows_earlier_language(http, demo_tenant) -> None:
    japanese = await reply_to(http, demo_tenant, "担当者", earlier=("請求書はどこですか",))
    chinese = await reply_to(http, demo_tenant, "担当者", earlier=("我的发票在哪里？",))
    alone = await reply_to(http, demo_tenant, "担当者")

    assert japanese["content"] == acknowledgement(HandoffReason.REQUESTED_HUMAN, "ja")
    assert chinese["content"] == acknowledgement(HandoffReason.REQUESTED_HUMAN, "zh")
    assert alone["content"] == acknowledgement(HandoffReason.REQUESTED_HUMAN, "en")


async def test_http_kanji_only_request_follows_locale(http, demo_tenant) -> None:
    japanese = await reply_to(http, demo_tenant, "担当者", metadata={"locale": "ja"})
    traditional = await reply_to(http, demo_tenant, "担当者", metadata={"locale": "zh-hant"})

    assert japanese["content"] == acknowledgement(HandoffReason.REQUESTED_HUMAN, "ja")
    assert traditional["content"] == acknowledgement(HandoffReason.REQUESTED_HUMAN, "zh-Hant")

"""Requests for a person in Russian, Polish, Chinese, Japanese, Korean, Arabic and Turkish."""

import pytest

from campfire_server.assistant.acknowledgements import acknowledgement
from campfire_server.assistant.handoff import HandoffReason, before_answer
from campfire_server.assistant.language import detect_language
from campfire_server.assistant.person_request import fold, requested_human

# Requests for a person, a role or a team, per language.
REQUESTS = {
    "ru": [
        "Я хочу поговорить с человеком",
        "Соедините меня с оператором, пожалуйста",
        "Нужен живой человек!",
        "Хочу поговорить с отделом продаж",
        "Можно связаться с менеджером?",
        "Оператор",
        "Почему я не могу поговорить с человеком?",
    ],
    "pl": [
        "Chcę rozmawiać z człowiekiem",
        "Chce rozmawiac z czlowiekiem",
        "Połączcie mnie z konsultantem",
        "Chcę porozmawiać z działem sprzedaży",
        "Poproszę konsultanta",
    ],
    "zh": [
        "我要人工客服",
        "我要人工客服？谢谢",
        "转人工",
        "我想和真人说话",
        "我想和销售聊聊",
        "请帮我转接经理",
        "联系客服",
    ],
    "zh-Hant": ["我想和真人說話", "轉人工客服", "請幫我轉接經理"],
    "ja": [
        "人間のオペレーターと話したい",
        "担当者に代わってください",
        "営業担当と話したいです",
        "人間につないでください",
        "オペレーターをお願いします",
        "有人対応を希望します",
    ],
    "ko": [
        "상담원과 통화하고 싶어요",
        "상담원 연결해 주세요",
        "영업팀과 통화하고 싶습니다",
        "사람이랑 얘기하고 싶어요",
        "담당자 바꿔 주세요",
        "상담원",
    ],
    "ar": [
        "أريد التحدث مع موظف",
        "أريد التحدث مع المبيعات",
        "حولني إلى خدمة العملاء",
        "ممكن أكلم شخص حقيقي؟",
        "اريد موظف من فضلك",
    ],
    "tr": [
        "Bir insanla konuşmak istiyorum",
        "Müşteri temsilcisine bağlayın",
        "Canlı desteğe bağlanmak istiyorum",
        "Satış ekibiyle görüşmek istiyorum",
        "Yetkiliyle görüşebilir miyim?",
        "Müşteri temsilcisi lütfen",
    ],
}

# Refusals of a person and questions about what staff or customers can do.
NOT_REQUESTS = {
    "ru": [
        "Я не хочу говорить с человеком",
        "Может ли оператор помочь мне экспортировать данные?",
        "Сколько сотрудников можно добавить?",
        "Могут ли клиенты поговорить с оператором в виджете?",
    ],
    "pl": [
        "Nie chcę rozmawiać z człowiekiem",
        "Czy pracownik może eksportować dane?",
        "Ile osób może być w zespole?",
    ],
    "zh": [
        "客服可以导出数据吗？",
        "我不想和人工客服说话",
        "不用转人工",
        "如何添加客服人员？",
        "可以让客户和人工客服聊天吗？",
        "人工客服的工作时间是什么？",
    ],
    "ja": [
        "スタッフは会話に返信できますか",
        "人間と話したくない",
        "お客様がオペレーターと話せますか",
        "オペレーターを追加する方法は？",
    ],
    "ko": [
        "고객이 상담원과 대화할 수 있나요?",
        "직원이 대화 내용을 볼 수 있나요?",
        "상담원과 통화하고 싶지 않아요",
        "상담원을 추가하려면 어떻게 하나요?",
    ],
    "ar": [
        "هل يستطيع الموظف تصدير البيانات؟",
        "لا أريد التحدث مع موظف",
        "كيف أضيف موظفا جديدا؟",
    ],
    "tr": [
        "Bir insanla konuşmak istemiyorum",
        "Temsilciler müşterilerle konuşabilir mi?",
        "Yeni bir temsilci nasıl eklerim?",
    ],
}

# The opening of each reason's acknowledgement, the value a customer sees.
OPENINGS = {
    "ru": ("Конечно.", "Я не знаю: наши справочные статьи этого не описывают."),
    "pl": ("Oczywiście.", "Nie wiem, ponieważ nasze artykuły pomocy tego nie opisują."),
    "zh": ("好的。", "这个我不知道，我们的帮助文章没有涉及这个问题。"),
    "zh-Hant": ("好的。", "這個我不知道，我們的說明文章沒有涵蓋這個問題。"),
    "ja": ("承知しました。", "わかりません。ヘルプ記事ではこの内容を扱っていません。"),
    "ko": ("알겠습니다.", "잘 모르겠습니다. 도움말 문서에서 이 내용을 다루지 않습니다."),
    "ar": ("بالتأكيد.", "لا أعرف، فمقالات المساعدة لدينا لا تتناول هذا الموضوع."),
    "tr": ("Elbette.", "Bilmiyorum, çünkü yardım makalelerimiz bu konuyu kapsamıyor."),
}


def cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(language, message) for language, messages in table.items() for message in messages]


@pytest.mark.parametrize(("language", "message"), cases(REQUESTS))
def test_request_recognised(language: str, message: str) -> None:
    assert requested_human(message)
    assert before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize(("language", "message"), cases(NOT_REQUESTS))
def test_refusal_or_staff_question_not_request(language: str, message: str) -> None:
    assert not requested_human(message)


@pytest.mark.parametrize(("language", "message"), cases(REQUESTS))
def test_request_language_detected(language: str, message: str) -> None:
    assert detect_language(message) == language


@pytest.mark.parametrize("language", OPENINGS)
def test_acknowledgement_in_language(language: str) -> None:
    requested, unknown = OPENINGS[language]
    assert acknowledgement(HandoffReason.REQUESTED_HUMAN, language).startswith(requested)
    assert acknowledgement(HandoffReason.OUT_OF_SCOPE, language).startswith(unknown)


def test_fold_keeps_marks_outside_latin() -> None:
    assert fold("オペレーター") == "オペレーター"
    assert fold("상담원") == "상담원"
    assert fold("Człowiek") == "człowiek"
    assert fold("Müşteri") == "musteri"
    assert fold("أريد") == "اريد"

"""Requests for a person, complaints and small talk worded as in Taiwan and Hong Kong.

Each wording below is written in traditional characters only, or in the
Cantonese characters that Hong Kong customers write. Simplified Chinese
forms keep their own tests in ``test_detector_languages.py`` and
``test_person_request_languages.py``.
"""

from __future__ import annotations

import pytest

from campfire_server.assistant import handoff
from campfire_server.assistant.handoff import HandoffReason
from campfire_server.assistant.person_request import requested_human
from campfire_server.assistant.small_talk import SmallTalk, match_small_talk

# The same request or complaint in both scripts, recognised in each.
BOTH_SCRIPTS = [
    ("轉接真人", "转接真人", HandoffReason.REQUESTED_HUMAN),
    ("我要找客服人員", "我要找客服人员", HandoffReason.REQUESTED_HUMAN),
    ("太爛了", "太烂了", HandoffReason.NEGATIVE_SENTIMENT),
    ("我要投訴你們", "我要投诉你们", HandoffReason.NEGATIVE_SENTIMENT),
    ("請幫我轉專人", "请帮我转专人", HandoffReason.REQUESTED_HUMAN),
    ("我要找服務人員", "我要找服务人员", HandoffReason.REQUESTED_HUMAN),
    ("你們的客服爛透了", "你们的客服烂透了", HandoffReason.NEGATIVE_SENTIMENT),
    ("超級爛的服務", "超级烂的服务", HandoffReason.NEGATIVE_SENTIMENT),
    ("客服很爛", "客服很烂", HandoffReason.NEGATIVE_SENTIMENT),
]

# Questions in both scripts that name the same words without asking or complaining.
BOTH_SCRIPTS_QUESTIONS = [
    ("請問專人服務的時間是幾點？", "请问专人服务的时间是几点？"),
    ("如何新增服務人員？", "如何新增服务人员？"),
    ("今天陽光很燦爛", "今天阳光很灿烂"),
]

PERSON_REQUESTS = [
    "請幫我轉專人",
    "我要專人服務",
    "找專人",
    "我要找服務人員",
    "我要接線生",
    "我要找承辦人員",
    "我想搵真人",
    "搵職員",
    "幫我轉駁客服",
    "我要同真人傾",
    "可以同客服傾吓嗎？",
]

NOT_PERSON_REQUESTS = [
    "請問專人服務的時間是幾點？",
    "如何新增服務人員？",
    "我唔想搵真人",
    "我同客服傾過，佢話會處理",
]

COMPLAINTS = [
    "有夠爛",
    "你們的客服爛透了",
    "氣炸了",
    "好無言",
    "廢到笑",
    "太誇張了，等了三天",
    "激嬲",
    "我好嬲",
    "我要投訴你哋",
    "你幫唔到我",
    "完全幫唔到我",
    "冇用",
    "都係唔得",
]

NOT_COMPLAINTS = [
    "發票作廢了怎麼辦？",
    "點樣匯出資料？",
    "試咗未？",
    "冇用過呢個功能，點樣開始？",
]

SMALL_TALK = [
    ("謝謝你喔", SmallTalk.THANKS),
    ("感謝你的幫忙", SmallTalk.THANKS),
    ("謝謝您的協助", SmallTalk.THANKS),
    ("麻煩你了", SmallTalk.THANKS),
    ("唔該晒", SmallTalk.THANKS),
    ("多謝晒", SmallTalk.THANKS),
    ("有冇人", SmallTalk.GREETING),
    ("早晨", SmallTalk.GREETING),
    ("午安", SmallTalk.GREETING),
    ("冇問題", SmallTalk.ACKNOWLEDGEMENT),
    ("好嘅", SmallTalk.ACKNOWLEDGEMENT),
    ("下次見", SmallTalk.FAREWELL),
    ("就咁多", SmallTalk.FAREWELL),
]


@pytest.mark.parametrize(("traditional", "simplified", "reason"), BOTH_SCRIPTS)
def test_both_scripts_hand_off(traditional: str, simplified: str, reason: HandoffReason) -> None:
    assert handoff.before_answer([], traditional).reason is reason
    assert handoff.before_answer([], simplified).reason is reason


@pytest.mark.parametrize(("traditional", "simplified"), BOTH_SCRIPTS_QUESTIONS)
def test_both_scripts_questions_answered(traditional: str, simplified: str) -> None:
    assert not handoff.before_answer([], traditional).should_handoff
    assert not handoff.before_answer([], simplified).should_handoff


@pytest.mark.parametrize("message", PERSON_REQUESTS)
def test_traditional_person_request(message: str) -> None:
    assert requested_human(message)
    assert handoff.before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", NOT_PERSON_REQUESTS)
def test_traditional_question_not_request(message: str) -> None:
    assert not requested_human(message)


@pytest.mark.parametrize("message", COMPLAINTS)
def test_traditional_complaint(message: str) -> None:
    assert handoff.negative_sentiment(message)
    assert handoff.before_answer([], message).reason is HandoffReason.NEGATIVE_SENTIMENT


@pytest.mark.parametrize("message", NOT_COMPLAINTS)
def test_traditional_question_not_complaint(message: str) -> None:
    assert not handoff.negative_sentiment(message)


@pytest.mark.parametrize(("message", "kind"), SMALL_TALK)
def test_traditional_small_talk(message: str, kind: SmallTalk) -> None:
    match = match_small_talk(message)
    assert match is not None
    assert match.kind is kind
    assert not handoff.before_answer([], message).should_handoff

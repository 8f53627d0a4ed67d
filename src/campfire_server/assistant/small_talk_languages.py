"""Small-talk phrases in Russian, Polish, Turkish, Chinese, Japanese, Korean and Arabic.

Phrases are written as customers type them and folded by ``small_talk`` as
it folds a message. Chinese, Japanese and Korean phrases are read one
character at a time, so "谢谢你" and "ありがとうございます" need no spaces and
"감사 합니다" matches "감사합니다". A bare "yes" or "no" ("да", "はい", "네",
"نعم") is left out, as in the other languages.
"""

from __future__ import annotations

# Keys are the ``SmallTalk`` values: greeting, thanks, acknowledgement, farewell.
PHRASES = {
    "ru": {
        "greeting": """привет | приветик | здравствуйте | здравствуй | здрасте | здрасьте |
            добрый день | доброе утро | добрый вечер | доброго дня | приветствую | хай | салют |
            как дела | как вы | есть кто | есть кто-нибудь | кто-нибудь здесь | вы здесь |
            вы тут | алло | ау""",
        "thanks": """спасибо | спасибо большое | большое спасибо | огромное спасибо |
            спасибо огромное | спасибки | спс | пасиб | благодарю | благодарю вас |
            за помощь | спасибо за помощь""",
        "acknowledgement": """ок | окей | ok | хорошо | понятно | ясно | понял | поняла |
            ладно | отлично | супер | договорились | принято""",
        "farewell": """пока | пока-пока | до свидания | всего доброго | всего хорошего |
            хорошего дня | хорошего вечера | до встречи | спокойной ночи | и вам |
            и вам тоже | вам тоже | взаимно | это всё | это все | на этом всё |
            больше ничего""",
    },
    "pl": {
        "greeting": """cześć | dzień dobry | dobry wieczór | witam | witaj | hej | siema |
            halo | jak się masz | jest ktoś | jest tam ktoś | czy ktoś tam jest""",
        "thanks": """dziękuję | dziękuje | dzięki | dziękuję bardzo | bardzo dziękuję |
            wielkie dzięki | dzięki wielkie | serdecznie dziękuję | dzięks | dzk |
            za pomoc | dziękuję za pomoc""",
        "acknowledgement": """ok | okej | dobrze | jasne | rozumiem | zrozumiałem |
            zrozumiałam | super | świetnie | w porządku | spoko""",
        "farewell": """do widzenia | na razie | pa | pa pa | miłego dnia | miłego wieczoru |
            dobranoc | do zobaczenia | nawzajem | wzajemnie | to wszystko | nic więcej""",
    },
    "tr": {
        # "İyi günler" and "iyi akşamlar" open and close a conversation, and
        # a greeting reply ("how can I help?") suits both.
        "greeting": """merhaba | merhabalar | selam | selamlar | selamün aleyküm | günaydın |
            iyi günler | iyi akşamlar | nasılsınız | nasılsın | kimse var mı | orada mısınız |
            alo""",
        "thanks": """teşekkürler | teşekkür ederim | çok teşekkürler | çok teşekkür ederim |
            sağ ol | sağol | sağ olun | eyvallah | tşk | tşkler | yardımınız için""",
        "acknowledgement": """tamam | ok | peki | anladım | anlaşıldı | süper | harika |
            oldu | olur""",
        "farewell": """hoşça kal | hoşça kalın | görüşürüz | güle güle | iyi geceler |
            iyi çalışmalar | size de | sana da | bu kadar | başka bir şey yok""",
    },
    "zh": {
        "greeting": """你好 | 您好 | 嗨 | 哈喽 | 哈囉 | 早上好 | 早安 | 下午好 | 晚上好 |
            大家好 | 在吗 | 在嗎 | 在不在 | 有人吗 | 有人嗎 | 有人在吗 | 有人在嗎 | 你好吗 |
            你好嗎 | 有冇人 | 有冇人喺度 | 有冇人呀 | 早晨 | 早晨呀 | 午安 | 哈佬""",
        "thanks": """谢谢 | 謝謝 | 谢谢你 | 謝謝你 | 谢谢您 | 謝謝您 | 多谢 | 多謝 | 感谢 |
            感謝 | 非常感谢 | 非常感謝 | 太感谢了 | 太感謝了 | 谢啦 | 謝啦 | 谢了 | 謝了 |
            谢谢啦 | 謝謝啦 | 谢谢了 | 謝謝了 |
            辛苦了 | 感谢您的帮助 | 感謝您的幫助 | 谢谢你的帮助 | 謝謝你的幫助 |
            謝謝喔 | 謝謝你喔 | 謝謝您的協助 | 感謝你的幫忙 | 感謝您的協助 | 麻煩你了 |
            麻煩您了 | 唔該 | 唔該晒 | 唔該你 | 多謝晒 | 多謝你""",
        "acknowledgement": """好 | 好的 | 好吧 | 好滴 | 知道了 | 明白 | 明白了 | 了解 |
            懂了 | 收到 | 没问题 | 沒問題 | 嗯 | 嗯嗯 | ok | 冇問題 | 好嘅 | 明白晒 |
            知道喇 | 收到喇""",
        "farewell": """再见 | 再見 | 拜拜 | 回头见 | 回頭見 | 晚安 | 就这样 | 就這樣 |
            没有了 | 沒有了 | 没事了 | 沒事了 | 不用了 | 你也是 | 您也是 | 再會 | 下次見 |
            冇嘢喇 | 冇事喇 | 就咁多""",
    },
    "ja": {
        "greeting": """こんにちは | こんにちわ | こんばんは | こんばんわ | おはよう |
            おはようございます | はじめまして | もしもし | お疲れ様です | お疲れさまです |
            誰かいますか | だれかいますか""",
        "thanks": """ありがとう | ありがと | ありがとうございます | ありがとうございました |
            どうもありがとう | どうもありがとうございます | どうもありがとうございました |
            有難うございます | 感謝します | 助かりました | 助かります | サンキュー""",
        "acknowledgement": """了解 | 了解です | 了解しました | 承知しました | 分かりました |
            わかりました | はいわかりました | はい分かりました | なるほど | オッケー | ok""",
        "farewell": """さようなら | さよなら | 失礼します | では失礼します | またね | じゃあね |
            おやすみ | おやすみなさい | 大丈夫です | 以上です | 結構です |
            よろしくお願いします""",
    },
    "ko": {
        "greeting": """안녕하세요 | 안녕 | 안녕하십니까 | 여보세요 | 저기요 | 계세요 |
            누구 계세요 | 하이""",
        "thanks": """감사합니다 | 감사해요 | 감사드립니다 | 정말 감사합니다 | 너무 감사합니다 |
            고맙습니다 | 고마워요 | 고마워 | 땡큐""",
        "acknowledgement": """알겠습니다 | 알겠어요 | 네 알겠습니다 | 오케이 | 좋아요 |
            좋습니다 | 이해했어요 | 이해했습니다 | 확인했습니다 | 그렇군요 | ok""",
        "farewell": """안녕히 계세요 | 안녕히 가세요 | 수고하세요 | 수고하셨습니다 |
            좋은 하루 되세요 | 좋은 하루 보내세요 | 괜찮아요 | 괜찮습니다 | 됐어요 |
            그게 다예요""",
    },
    "ar": {
        "greeting": """مرحبا | مرحبًا | أهلا | أهلاً | أهلا وسهلا | السلام عليكم | سلام |
            صباح الخير | مساء الخير | هاي | هلا | كيف حالك | هل من أحد | هل يوجد أحد""",
        "thanks": """شكرا | شكرًا | شكرا جزيلا | شكرًا جزيلًا | شكرا لك | شكرا لكم | شكرا جزيلا لك |
            شكرا على المساعدة | شكرا لك على المساعدة | مشكور |
            مشكورين | ألف شكر | يعطيك العافية | جزاك الله خيرا | تسلم""",
        "acknowledgement": """حسنا | حسنًا | تمام | اوكي | أوكي | ok | مفهوم | فهمت | طيب |
            ممتاز | رائع | ماشي""",
        "farewell": """مع السلامة | وداعا | إلى اللقاء | تصبح على خير | يوم سعيد |
            وأنت كذلك | وانت كذلك | هذا كل شيء | بس كذا""",
    },
}

# Words that decline the "anything else?" of the reply to thanks, beside
# thanks or a farewell only: "нет, спасибо", "いいえ、大丈夫です".
DECLINES = {
    "ru": "нет",
    "pl": "nie",
    "tr": "hayır | yok",
    "zh": "不 | 不了",
    "ja": "いいえ | いえ | いや",
    "ko": "아니요 | 아니오 | 아뇨 | 아니",
    "ar": "لا",
}

"""Request forms for a person in Russian, Polish, Chinese, Japanese, Korean, Arabic and Turkish.

The forms match text after ``person_request.fold``: Latin letters lose their
accents (Polish "człowiekiem" keeps its "ł", Turkish "ı" stays), and other
scripts keep theirs. Chinese and Japanese have no spaces between words, so
their forms use no ``\\b``. Each form needs a verb of contact or a wish
together with a person or a team, so a question about what staff can do
("客服可以导出数据吗？", "スタッフは返信できますか") matches none.
"""

from __future__ import annotations

# Russian: "поговорить с человеком", "соедините с оператором", "нужен живой человек".
_PEOPLE_RU = (
    r"(?:(?:живым|живой|живого|реальным|настоящим)\s+)?(?:человек(?:ом|а|у)?|оператор(?:ом|а|у)?|"
    r"менеджер(?:ом|а|у)?|сотрудник(?:ом|а|у|ами)?|специалист(?:ом|а|у)?|консультант(?:ом|а|у)?|"
    r"представител(?:ем|ь|я)|агент(?:ом|а)?|руководител(?:ем|ь|я)|поддержк(?:ой|а|у|и)|"
    r"службой поддержки|отдел(?:ом)? продаж|кем-(?:то|нибудь) из (?:поддержки|команды))"
)
_RU = (
    rf"\b(?:поговорить|говорить|связаться|пообщаться|общаться|побеседовать|переписываться)\s+"
    rf"с\s+(?:вашим\s+|вашей\s+)?{_PEOPLE_RU}\b",
    rf"\b(?:соедините|соедини|переключите|переключи|переведите|переведи|позовите|позови|"
    rf"дайте|дай)\s+(?:меня\s+|мне\s+)?(?:с\s+|на\s+)?{_PEOPLE_RU}\b",
    r"\b(?:нужен|нужна|хочу|позовите)\s+(?:живого\s+|живой\s+|реального\s+)?"
    r"(?:человека|человек|оператора|оператор|менеджера|менеджер|специалиста|специалист|"
    r"консультанта|консультант|сотрудника|сотрудник)"
    r"(?=\s*(?:$|[,.;:!?)]|пожалуйста))",
    r"^\W*(?:оператор|человек|живой человек|менеджер)\W*(?:пожалуйста)?\W*$",
)

# Polish: "chcę rozmawiać z człowiekiem", "połączcie mnie z konsultantem".
_PEOPLE_PL = (
    r"(?:(?:prawdziwym|zywym|prawdziwa|zywa)\s+)?(?:cz[lł]owiek(?:iem|a)?|konsultant(?:em|a)?|"
    r"konsultantk[aąi]|pracownik(?:iem|a)?|agent(?:em|a)?|operator(?:em|a)?|doradc[aąy]|"
    r"przedstawiciel(?:em|a)?|kierownik(?:iem|a)?|menad[zż]er(?:em|a)?|osob[aąey]|"
    r"obs[lł]ug[aąi] klienta|dzia[lł]\w* sprzedazy|zesp[oó][lł]\w* wsparcia|wsparciem|supportem)"
)
_PL = (
    rf"\b(?:rozmawiac|porozmawiac|pogadac|skontaktowac sie|kontaktowac sie|po[lł]aczyc sie)\s+"
    rf"z\s+(?:jakims\s+|jakas\s+|waszym\s+|wasza\s+)?{_PEOPLE_PL}\b",
    rf"\b(?:po[lł]acz|po[lł]aczcie|po[lł]aczy|przekieruj|przekierujcie|prze[lł]acz|"
    rf"prze[lł]aczcie)\s+(?:mnie\s+)?(?:prosze\s+)?(?:z|do)\s+{_PEOPLE_PL}\b",
    r"\b(?:chce|potrzebuje|prosze o|poprosze|chcia[lł](?:bym|abym))\s+"
    r"(?:prawdziwego\s+|zywego\s+)?(?:cz[lł]owieka|konsultanta|konsultantke|pracownika|"
    r"operatora|doradce|przedstawiciela|kierownika|menad[zż]era)"
    r"(?=\s*(?:$|[,.;:!?)]|prosze))",
    r"^\W*(?:konsultant|cz[lł]owiek|operator)\W*(?:prosze)?\W*$",
)

# Chinese, simplified and traditional: "我要人工客服", "转人工", "我想和真人说话".
# Taiwan and Hong Kong wording has forms in traditional characters only:
# "請幫我轉專人", "我要找服務人員", "接線生", Cantonese "我想搵真人", "同客服傾",
# "轉駁客服". Their simplified forms ("请帮我转专人") count too.
_PEOPLE_ZH = (
    r"(?:人工客服|人工服务|人工服務|人工|真人|真正的人|活人|客服人员|客服人員|客服|"
    r"工作人员|工作人員|销售人员|銷售人員|销售|銷售|经理|經理|主管|接线员|接線員|专员|專員|"
    r"專人服務|專人|服務人員|接線生|承辦人員|承辦人|職員|专人服务|专人|服务人员|承办人员|承办人)"
)
_ZH_END = r"(?=\s*(?:$|[,.;:!?)、。]|吧|啊|呀|谢谢|謝謝|请|請|好吗|好嗎|可以吗|可以嗎|唔該|呀唔該))"
_ZH = (
    rf"(?:转|轉)(?:接|駁)?(?:到|给|給)?(?:一个|一個|一位)?{_PEOPLE_ZH}",
    rf"(?:我要|我想要|我需要|请给我|請給我|给我|給我|帮我找|幫我找|我要找|我想找|找|"
    rf"我要搵|我想搵|幫我搵|搵)"
    rf"(?:一个|一個|一位|个|個|位)?{_PEOPLE_ZH}{_ZH_END}",
    rf"(?:和|跟|与|與|同|找)(?:你们的|你們的|一个|一個|一位|位)?{_PEOPLE_ZH}"
    r"(?:聊|说话|說話|讲话|講話|对话|對話|沟通|溝通|通话|通話|交谈|交談|谈|談|"
    r"(?:傾|講嘢)(?:吓|下)?(?!過|咗))",
    rf"(?:联系|聯繫|聯絡|联络)(?:你们的|你們的)?{_PEOPLE_ZH}{_ZH_END}",
    r"^\W*(?:人工|人工客服|人工服务|人工服務|真人|转人工|轉人工)\W*(?:谢谢|謝謝|请|請)?\W*$",
)

# Japanese: "人間のオペレーターと話したい", "担当者に代わってください".
_PEOPLE_JA = (
    r"(?:人間|オペレーター|オペレータ|担当者|担当の(?:方|人)|スタッフ|サポート(?:担当|チーム)?|"
    r"営業(?:担当|部)?|有人|窓口|上司|責任者|係の(?:方|人)|本物の人|実際の人|生身の人|"
    r"カスタマーサポート|カスタマーサービス)(?:の方)?"
)
# A wish or a request ending, but no negated wish: "話したくない" is a refusal.
_JA_REQUEST = (
    r"(?:たい(?!く)|たいです|[てで](?:ください|下さい|ほしい|欲しい|もらえ|くれ|いただ)|"
    r"ますか|ませんか)"
)
_JA = (
    rf"{_PEOPLE_JA}(?:と|に)(?:直接)?(?:話し|はなし|話|相談し|代わっ|かわっ|替わっ|変わっ|"
    rf"つない|繋い|つなげ|繋げ|電話し|チャットし|連絡し|やり取りし){_JA_REQUEST}",
    rf"{_PEOPLE_JA}(?:と|に)(?:話せ|はなせ|相談でき|つなげ|繋げ)(?:ますか|ませんか)",
    r"(?:人間|オペレーター|担当者|スタッフ|有人)(?:の?(?:方|人|対応|サポート))?(?:を|で|が)?"
    r"(?:お願い|おねがい|希望|呼んで)",
    r"^\W*(?:オペレーター|担当者|人間|有人対応)\W*(?:お願いします|おねがいします)?\W*$",
)

# Korean: "상담원과 통화하고 싶어요", "상담원 연결해 주세요". "하고 싶지 않아요" is a refusal.
_PEOPLE_KO = (
    r"(?:실제\s*사람|진짜\s*사람|상담원|상담사|상담 직원|직원|사람|담당자|매니저|관리자|"
    r"영업팀|영업 담당자|고객센터|고객 지원팀|지원팀)"
)
_KO = (
    rf"{_PEOPLE_KO}(?:분|님)?(?:과|와|이랑|랑|하고|한테|에게|께)?\s*(?:직접\s*)?"
    r"(?:통화|대화|얘기|이야기|상담|연결|채팅|말)(?:를|을)?\s*"
    r"(?:하고\s*싶(?!지)|해\s*주|해\s*줘|부탁|요청|시켜\s*주|원해|원합|하길\s*원)",
    rf"{_PEOPLE_KO}(?:으로|로)?\s*바꿔\s*(?:주|줘)",
    r"^\W*(?:상담원|상담사|사람|직원)(?:\s*연결)?\s*(?:부탁(?:드립니다|해요|합니다)|주세요|요)?\W*$",
)

# Arabic: "أريد التحدث مع موظف", "حولني إلى خدمة العملاء", "ممكن أكلم شخص حقيقي".
_PEOPLE_AR = (
    r"(?:احد\s+)?(?:ال|بال|ب|لل|ل)?(?:موظف\w*|شخص|انسان|بشر\w*|ممثل\w*|وكيل|مندوب\w*|"
    r"مدير\w*|مشرف\w*|مسؤول|خدمة العملاء|دعم\w*|فريق الدعم|مبيعات|عامل)"
)
_AR_END = r"(?=\s*(?:$|[,،.!?؟]|من فضلك|لو سمحت|بشري|حقيقي|الان|الآن))"
_AR = (
    r"(?:التحدث|التكلم|الكلام|اتكلم|اكلم|اتحدث|احكي|نتكلم|نتحدث|التواصل|اتواصل|تواصل|محادثة|"
    rf"تحدث|كلم)\s+(?:مع|الى|ل)?\s*(?:\S+\s+)?{_PEOPLE_AR}\b",
    rf"(?:حولني|حولوني|وصلني|اوصلني|وصلوني)\s+(?:الى|ل|مع|على|ب)?\s*{_PEOPLE_AR}\b",
    rf"(?:اريد|ابغى|ابي|عايز|عاوز|بدي|احتاج|اطلب)\s+{_PEOPLE_AR}(?:\s+\S+)?{_AR_END}",
)

# Turkish: "bir insanla konuşmak istiyorum", "müşteri temsilcisine bağlayın".
# The person takes a "with" or "to" suffix, so "temsilciler müşterilerle
# konuşabilir mi?" (a question about staff) is left out.
_PEOPLE_TR = (
    r"(?:bir\s+)?(?:gercek\s+)?(?:bir\s+)?(?:(?:insan|kisi|temsilci|musteri temsilcisi|yetkili|"
    r"operator|cal[iı]san|yonetici|personel|destek ekibi|sat[iı]s ekibi|musteri hizmetleri)"
    r"(?:si|s[iı])?(?:y?le|y?la|y?e|y?a|ne|na|\s+ile)|canl[iı] destege|canl[iı] destekle)"
)
_TR_VERB = (
    r"(?:(?:konus|gorus|baglan|ulas)(?:m[ae]k\s+ist(?:iyorum|iyoruz|erim)|"
    r"[ae]bilir\s*m[iı]y[iı]m|[ae]bilir\s*miyiz)|"
    r"(?:bagla|aktar|yonlendir)(?:y[iı]n|[iı]n|[iı]r\s*m[iı]s[iı]n[iı]z))"
)
_TR = (
    rf"\b{_PEOPLE_TR}\s+(?:\w+\s+)?{_TR_VERB}",
    r"^\W*(?:canl[iı] destek|musteri temsilcisi|temsilci|yetkili|operator)\W*"
    r"(?:lutfen|istiyorum)?\W*$",
)

REQUEST_EXPRESSIONS = _RU + _PL + _ZH + _JA + _KO + _AR + _TR

# Negations that end the text before a request form in these languages.
NEGATIONS = (
    r"не\s+(?:хочу|хотим|нужно|надо|нужен|нужна|хотел|хотела|буду)|без",
    r"nie\s+(?:chce|chcemy|potrzebuje|chcia[lł]\w*)|bez",
    r"(?:لا|ما|مش|مو)\s+(?:اريد|احتاج|ابغى|ابي|بدي|عايز|عاوز|نريد)|بدون|بلا",
)
# Chinese negations stand right before the form, with no space or word boundary.
NEGATED_LEAD_CJK = (
    r"(?:不想|不要|不需要|不用|无需|無需|别|別|不必|没必要|沒必要|唔想|唔要|唔使|唔需要)\s*$"
)

# Someone other than the customer talking to a person is a question about the product:
# "可以让客户和人工客服聊天吗？", "고객이 상담원과 대화할 수 있나요?".
THIRD_PARTY = (
    r"\b(?:клиент(?:ы|ов|ам)|пользовател\w*|посетител\w*)\b",
    r"\b(?:klienci|klientow|uzytkownic\w*|uzytkownikow)\b",
    r"(?:客户|客戶|用户|用戶|访客|訪客|顾客|顧客)(?!服务|服務|支持)",
    r"(?:お客様|顧客|ユーザー|訪問者)(?:が|は|も)",
    r"(?:고객|사용자|방문자|손님|회원)(?:들)?(?:이|가|은|는|도)\s",
    r"(?<!خدمة )(?:العملاء|المستخدمين|الزوار|عملائي|عملاؤنا)",
    r"\b(?:musteriler\w*|kullan[iı]c[iı]\w*|ziyaretci\w*)\b",
)

"""Frustration and complaints about the help in Russian, Polish, Turkish, Chinese, Japanese,
Korean and Arabic.

The forms match text after ``person_request.fold``: Latin letters lose
their accents (Polish "ł" and Turkish "ı" stay), and other scripts keep
theirs. Chinese and Japanese have no spaces between words, so their forms
use no ``\\b``. Words that also name a feature or a case are kept out or
fenced: Chinese "垃圾" is also the spam folder ("垃圾邮件"), and Japanese
"最悪の場合" or Korean "최악의 경우" means "in the worst case".
"""

from __future__ import annotations

# Strong frustration or anger, counted in a message of any length, like
# ``handoff._NEGATIVE``.
FRUSTRATION = (
    # Russian: "это ужасно", "я зол", "надоело", "худший сервис", "подам в суд".
    r"\b(?:это|просто|какой|какая|какое)\s+(?:ужас|ужасно|кошмар|позор|безобразие|"
    r"издевательство|отвратительно|возмутительно|неприемлемо)\b",
    r"\b(?:ужасн\w*|отвратительн\w*|худш\w*)\s+(?:сервис\w*|поддержк\w*|обслуживани\w*|"
    r"компани\w*|служб\w*)\b",
    r"\bя\s+(?:очень\s+|так\s+)?(?:зол|зла|злюсь|в бешенстве|в ярости|разочарован\w*)\b|"
    r"\b(?:надоело|достали|достало|задолбал\w*|бесит|сколько можно|сыт по горло|"
    r"пустая трата (?:времени|денег)|подам в суд|вы издеваетесь|больше никогда)\b",
    r"\b(?:блять|бля|блядь|хрен\w*|хуй\w*|хуе\w*|пизд\w*|сука|черт возьми|чёрт возьми)\b",
    # Polish: "to skandal", "jestem wściekły", "mam dość", "najgorsza obsługa".
    r"\b(?:to\s+(?:jest\s+)?(?:skandal|zenada|zenujace|zart|kpina|za[lł]osne|"
    r"niedopuszczalne|oburzajace)|skandaliczn\w*|niedopuszczaln\w*|"
    r"jestem\s+(?:bardzo\s+)?(?:wsciek[lł]\w*|wkurzon\w*|zdenerwowan\w*|rozczarowan\w*)|"
    r"wkurza\w*|mam (?:tego )?dosc|najgorsz\w* (?:obs[lł]ug\w*|serwis\w*|firm\w*)|"
    r"strata czasu|strata pieniedzy|pozwe was|nigdy wiecej)\b",
    r"\b(?:kurwa|kurwy|kurde|cholera|chuj\w*|jeban\w*|wkurwi\w*|pierdol\w*)\b",
    # Turkish: "rezalet", "berbat bir hizmet", "bıktım", "çok sinirliyim".
    r"\b(?:rezalet|rezil|berbat|kabul edilemez|sacmal[iı]k|b[iı]kt[iı]m|yeter art[iı]k|"
    r"(?:cok\s+)?sinirliyim|sinir oldum|en kotu (?:hizmet|destek|sirket|firma)|"
    r"zaman kayb[iı]|dava edecegim|sikayet edecegim|dalga m[iı] geciyorsunuz|bir daha asla)\b",
    r"\b(?:siktir|amk|aq|kahretsin|lanet olsun)\b",
    # Chinese: "太差了", "气死我了", "受够了", "我要投诉". "垃圾邮件" is the spam folder.
    r"太(?:差|烂|爛|坑)了|差劲|差勁|垃圾(?!邮件|郵件|箱|桶|信|短信|文件|评论|評論)|"
    r"气死(?:我)?了|氣死(?:我)?了|(?:我|真|好|太)(?:很)?(?:生气|生氣|愤怒|憤怒)|受够了|受夠了|"
    r"无语|無語|离谱|離譜|坑人|骗子|騙子|忍无可忍|忍無可忍|不可接受|无法接受|無法接受|"
    r"(?:最差|最烂|最爛)的(?:服务|服務|客服|体验|體驗)|浪费(?:我的)?时间|浪費(?:我的)?時間|"
    r"我要(?:投诉|投訴)|(?:投诉|投訴)你们|(?:投诉|投訴)你們|起诉你们|起訴你們|"
    r"(?:什么|什麼)破(?:玩意|东西|東西|系统|系統|软件|軟件|客服|服务|服務)|"
    r"他妈的|他媽的|(?<![妈媽])[妈媽]的(?![妈媽])|"
    # The simplified forms of the Taiwan wording below: "烂透了", "超级烂的服务".
    r"(?:很|超|超级|好|真)烂|烂(?:透|死|爆)了?|烂到(?:爆|不行|极点)",
    # Taiwan and Hong Kong wording in traditional characters only: "有夠爛", "爛透了",
    # "氣炸了", "好無言", "廢到笑", Cantonese "激嬲", "好嬲", "投訴你哋".
    r"有夠(?:爛|廢|扯|誇張|糟|差)|(?:很|超|超級|好|真|有夠)爛|爛(?:透|死|爆)了?|爛到(?:爆|不行|極點)|"
    r"太誇張了|氣炸了|氣到(?:爆|不行|快瘋)|(?:好|很|超|真的)?無言(?:了|耶|欸)?|"
    r"廢到笑|(?:太|很|超|好)廢了?|(?:激|好|超|嬲到)嬲|嬲死|嬲爆|離晒譜|"
    r"(?:投訴|起訴)你哋|仆街",
    # Japanese: "最悪です", "ふざけるな", "ムカつく", "時間の無駄".
    r"最悪(?!の(?:場合|ケース|事態|シナリオ))|ふざけるな|ふざけんな|ふざけてる|ありえない|"
    r"ありえません|あり得ない|腹が立|腹立つ|ムカつ|むかつ|頭にきた|いい加減にして|うんざり|"
    r"怒っています|怒ってる|時間の無駄|訴えます|訴えるぞ|二度と使わない|話にならない|"
    r"最低(?:だ|です|な(?:サービス|対応|会社)|の(?:サービス|対応|会社))",
    # Korean: "짜증나", "화가 나요", "어이가 없네", "시간 낭비". "최악의 경우" is a case.
    r"최악(?!의\s*(?:경우|상황|시나리오))|짜증\s*(?:나|난|났)|(?<![가-힣])화(?:가)?\s*(?:나|났)|열받|"
    r"어이가\s*없|어이없|말도\s*안\s*(?:돼|되)|장난\s*(?:하|치)|형편없|시간\s*낭비|"
    r"실망\s*(?:했|이에요|입니다|스럽)|고소\s*하겠|다시는\s*안\s*(?:써|쓸|씁)|"
    r"씨발|시발|개새|젠장|빡치|빡쳐",
    # Arabic: "خدمة سيئة جدا", "غير مقبول", "أنا غاضب", "مضيعة للوقت".
    r"\b(?:سيئ|سيء|سيئة|زفت)\s+(?:جدا|للغاية)\b|\bاسوا\s+(?:خدمة|دعم|شركة|تجربة)\b|"
    r"\b(?:غير مقبول|مهزلة|فضيحة|مقرف|مقرفة|مزعج جدا|طفح الكيل|سئمت|زهقت|قرفت|"
    r"مضيعة (?:للوقت|للمال|لوقتي)|نصابين|حرامية|حسبي الله|تبا لكم|تبا)\b|"
    r"\bانا\s+(?:جدا\s+)?(?:غاضب|غاضبة|زعلان|زعلانة|معصب|معصبة|مستاء|مستاءة)\b|"
    r"\b(?:سارفع|سأرفع) (?:دعوى|قضية)\b|\bلن (?:اتعامل|اشتري|استخدم)\w* (?:معكم |منكم )?"
    r"(?:مرة اخرى|ابدا)\b",
)

# Complaints that name the assistant or its answer, counted in a message of any length.
ADDRESSED = (
    # Russian: "вы мне не помогаете", "это не то, что я спрашивал".
    r"\b(?:вы|ты)\s+(?:мне\s+|меня\s+)?(?:совсем\s+|вообще\s+)?не\s+"
    r"(?:помогаете|помогаешь|понимаете|понимаешь|слышите|слышишь)\b",
    r"\b(?:это|оно)\s+(?:мне\s+)?(?:совсем\s+|вообще\s+)?не\s+помогает\s*(?:$|[,.;:!?])|"
    r"\bне то,?\s+(?:что|о чем|о чём)\s+я\s+(?:спрашивал|спрашивала|просил|просила)\w*\b|"
    r"\bя\s+(?:не об этом|другое)\s+(?:спрашивал|спрашивала)\b|"
    r"\b(?:вы|ты|бот|этот бот)\s+(?:совсем\s+|абсолютно\s+)?(?:бесполезн\w*|тупой|тупая|глупый)\b",
    # Polish: "nie pomagasz", "nie o to pytałem", "dzięki za nic".
    r"\b(?:w ogole\s+)?nie\s+(?:pomagasz|pomagacie|rozumiesz|rozumiecie)\b|"
    r"\bto\s+(?:mi\s+)?(?:w ogole\s+)?nie\s+pomaga\s*(?:$|[,.;:!?])|"
    r"\bnie o to (?:pyta[lł]em|pyta[lł]am|prosi[lł]em|prosi[lł]am)\b|"
    r"\b(?:jestes|bot jest)\s+(?:zupe[lł]nie\s+)?(?:bezuzyteczn\w*|beznadziejn\w*|g[lł]upi)\b|"
    r"\bdzieki za nic\b|\bdziekuje za nic\b",
    # Turkish: "bana yardımcı olmuyorsunuz", "sorduğum bu değil".
    r"\b(?:bana\s+)?(?:hic\s+)?yard[iı]mc[iı]\s+olmuyorsun(?:uz)?\b|"
    r"\bbeni\s+anlam[iı]yorsun(?:uz)?\b|\bbu\s+(?:bana\s+)?(?:hic\s+)?yard[iı]mc[iı]\s+olmad[iı]\b|"
    r"\bsordugum\s+(?:sey\s+)?bu\s+degil\b|\bbunu\s+sormad[iı]m\b|"
    r"\bise\s+yaram[iı]yorsun(?:uz)?\b",
    # Chinese: "你根本没帮到我", "答非所问", "不是我问的".
    r"(?:你|您|你们|你們|机器人|機器人)(?:根本|完全|一点都|一點都|都)?(?:没|沒)(?:有)?"
    r"(?:帮|幫)(?:到|上)?(?:我|忙)|(?:你|您|机器人|機器人)(?:根本)?(?:帮|幫)不了我|"
    r"(?:你|您|机器人|機器人)(?:根本|完全)?(?:不懂|不明白|听不懂|聽不懂)|答非所(?:问|問)|"
    r"不是我(?:问|問|要)的|(?:你|机器人|機器人|这个机器人|這個機器人)(?:真|太|好)?(?:没用|沒用)",
    # Cantonese in traditional characters: "你幫唔到我", "你哋完全唔明".
    r"(?:你|您|你哋|機器人)?(?:根本|完全|都|一啲都)?幫唔(?:到|倒)(?:我|手)|"
    r"(?:你|您|你哋|機器人)(?:根本|完全|都)?唔明(?:我|白)",
    # Japanese: "全然役に立たない" about the bot, "聞いたことと違う".
    r"(?:あなた|ボット|このボット|チャットボット|AI|ai)(?:は|って|が)?(?:全然|まったく|全く)?"
    r"役に立た|質問に答えていない|質問に答えてない|聞いたことと(?:違|ちが)|"
    r"そういう(?:こと|意味)じゃな|(?:全然|何も)(?:わかって|分かって)(?:ない|いない)",
    # Korean: "도움이 전혀 안 돼요" about the bot, "제가 물어본 게 아니에요".
    r"(?:당신|너|봇|챗봇|상담봇)(?:은|는|이|가)?\s*(?:전혀\s*)?(?:도움이\s*)?안\s*(?:돼|되)|"
    r"(?:제가|내가)\s*(?:물어본|질문한|물어 본)\s*(?:게|것|건)\s*아니|"
    r"(?:제|내)\s*말을?\s*(?:전혀\s*)?(?:이해\s*못|못\s*알아듣)|엉뚱한\s*(?:답|대답|소리)",
    # Arabic: "أنت لا تساعدني", "هذا ليس ما سألت عنه".
    r"\b(?:انت|انتم)\s+(?:لا|ما|مش|مو|لم)\s+(?:تساعد|تساعدني|تساعدوني|تساعدونني|تفهم|تفهمني|"
    r"تفهموني|ساعدتني|ساعدتوني)\b|\b(?:لا|لم)\s+(?:تساعدني|تساعدوني|تفهمني|تفهموني)\b|"
    r"\b(?:هذا|هذه)\s+(?:ليس|ليست|مو|مش)\s+ما\s+(?:سالت|طلبت|قصدت)\b|"
    r"\b(?:ليس|مو|مش)\s+(?:هذا|هذي)\s+(?:ما\s+)?(?:سالت|طلبت|سؤالي)\b|"
    r"\bشكرا على (?:لا شيء|ولا شيء)\b",
)

# Feedback that counts only in a short message, as ``complaints._FEEDBACK`` does.
FEEDBACK = (
    r"\b(?:(?:это|оно)\s+)?(?:не сработало|не помогло)\b|"
    r"\b(?:я\s+)?уже\s+(?:это\s+)?(?:пробовал|пробовала|пробовали|делал|делала|сделал|сделала)\b|"
    r"\b(?:бесполезно|толку ноль|без толку)\b|\b(?:всё|все|по-прежнему|до сих пор)\s+"
    r"(?:ещё\s+|еще\s+)?не\s+работает\b",
    r"\b(?:(?:to\s+)?nie\s+(?:zadzia[lł]a[lł]o|pomog[lł]o)|juz\s+(?:to\s+)?"
    r"(?:probowa[lł]em|probowa[lł]am|robi[lł]em|robi[lł]am)|bezuzyteczne|"
    r"(?:nadal|wciaz|dalej)\s+nie\s+dzia[lł]a)\b",
    r"\b(?:ise\s+yaramad[iı]|yard[iı]mc[iı]\s+olmad[iı]|(?:bu da|yine)\s+olmad[iı]|"
    r"zaten\s+denedim|denedim\s+zaten|ise\s+yaramaz|hala\s+cal[iı]sm[iı]yor)\b",
    r"(?:没用|沒用|没有用|沒有用|不管用|没帮助|沒幫助|没有帮助|沒有幫助|还是不行|還是不行|"
    r"还是没用|還是沒用|试过了|試過了|已经试过|已經試過|"
    # Cantonese in traditional characters: "冇用", "都係唔得", "試咗喇".
    r"冇用|(?:都係|仲係)(?:唔得|冇用|唔work)|試咗(?:喇|啦|la)?|已經試咗)",
    r"(?:役に立たない|役に立ちません|効果がなかった|効果がありません|うまくいかなかった|"
    r"ダメでした|だめでした|ダメだった|だめだった|もう試しました|既に試しました|すでに試しました|"
    r"まだ(?:動かない|動きません|直らない|直りません))",
    r"(?:도움이\s*(?:전혀\s*)?안\s*(?:돼|되|됐)|소용\s*(?:없|이\s*없)|쓸모\s*(?:없|가\s*없)|"
    r"(?:이미|벌써)\s*해\s*봤|(?:여전히|아직도)\s*안\s*(?:돼|되)|효과가\s*없)",
    r"\b(?:لم ينجح|ما نفع|ما زبط|ما اشتغل|لم يفد|غير مفيد|بلا فائدة|لا فائدة|"
    r"(?:ما زال|مازال|لا يزال|لسه)\s+(?:لا\s+)?(?:يعمل|شغال)|جربت (?:هذا|ذلك|هذا من قبل)|"
    r"جربته|سبق (?:و|ان )?جربت)\b",
)

# Words that open a question in these languages: "как", "czy", "nasıl", "هل".
QUESTION_OPENINGS = (
    r"как|что|почему|зачем|где|когда|можно|могу|ли|какой|какая|сколько|"
    r"jak|czy|dlaczego|gdzie|kiedy|co|ile|moge|"
    r"nas[iı]l|neden|niye|nerede|hangi|"
    r"كيف|لماذا|ليش|متى|اين|وين|ماذا|شو|ايش|هل|ممكن"
)
# Question words and endings of Chinese, Japanese and Korean, which may stand
# anywhere in the clause: "试过了吗", "もう試しましたか", "소용없나요".
QUESTION_MARKERS = (
    r"吗|嗎|怎么|怎麼|如何|为什么|為什麼|哪|是否|點樣|點解|係咪|邊度|邊個|咗未|過未|"
    r"(?:か|ですか|ますか|でしょうか)\s*$|どう(?:して|すれば|やって)|なぜ|なんで|"
    r"어떻게|왜|어디|언제|(?:나요|까요|니까|가요|는지|을까)\s*$"
)

"""Texts that tell the customer a person will take over, in the customer's language.

Each text is an opening sentence for the reason of the handoff followed by
the sentence that passes the conversation (or the question) on. English,
German, French, Spanish, Portuguese, Italian, Dutch, Polish, Turkish,
Russian, Chinese (in simplified and in traditional characters), Japanese,
Korean and Arabic are written out; any other language gets the English text.
"""

from __future__ import annotations

from .handoff import HandoffReason
from .language import DEFAULT_LANGUAGE, TRADITIONAL_CHINESE
from .sensitive import SensitiveTopic

R = HandoffReason

# Reasons about the conversation as a whole pass the conversation on; the
# others pass the question on.
_CONVERSATION_REASONS = frozenset({R.REQUESTED_HUMAN, R.NEGATIVE_SENTIMENT, R.REPEATED_FAILURE})

_PASSING = {
    "en": (
        "I'm passing this conversation to a member of our support team, and they will reply "
        "here as soon as they can.",
        "I'm passing your question to a member of our support team, and they will reply here.",
    ),
    "de": (
        "Ich gebe dieses Gespräch an ein Mitglied unseres Support-Teams weiter, das Ihnen hier "
        "so bald wie möglich antwortet.",
        "Ich gebe Ihre Frage an ein Mitglied unseres Support-Teams weiter, das Ihnen hier "
        "antwortet.",
    ),
    "fr": (
        "Je transmets cette conversation à un membre de notre équipe d'assistance, qui vous "
        "répondra ici dès que possible.",
        "Je transmets votre question à un membre de notre équipe d'assistance, qui vous "
        "répondra ici.",
    ),
    "es": (
        "Paso esta conversación a una persona de nuestro equipo de soporte, que le responderá "
        "aquí lo antes posible.",
        "Paso su pregunta a una persona de nuestro equipo de soporte, que le responderá aquí.",
    ),
    "pt": (
        "Vou passar esta conversa para uma pessoa da nossa equipe de suporte, que responderá "
        "aqui assim que possível.",
        "Vou passar a sua pergunta para uma pessoa da nossa equipe de suporte, que responderá "
        "aqui.",
    ),
    "it": (
        "Passo questa conversazione a una persona del nostro team di assistenza, che le "
        "risponderà qui appena possibile.",
        "Passo la sua domanda a una persona del nostro team di assistenza, che le risponderà qui.",
    ),
    "nl": (
        "Ik geef dit gesprek door aan een medewerker van ons supportteam, die u hier zo snel "
        "mogelijk antwoordt.",
        "Ik geef uw vraag door aan een medewerker van ons supportteam, die u hier antwoordt.",
    ),
    "pl": (
        "Przekazuję tę rozmowę członkowi naszego zespołu wsparcia, który odpowie tutaj "
        "najszybciej, jak to możliwe.",
        "Przekazuję Twoje pytanie członkowi naszego zespołu wsparcia, który odpowie tutaj.",
    ),
    "tr": (
        "Bu görüşmeyi destek ekibimizden bir kişiye aktarıyorum, en kısa sürede size buradan "
        "yanıt verecek.",
        "Sorunuzu destek ekibimizden bir kişiye aktarıyorum, size buradan yanıt verecek.",
    ),
    "ru": (
        "Я передаю этот разговор сотруднику нашей службы поддержки, он ответит здесь как "
        "можно скорее.",
        "Я передаю ваш вопрос сотруднику нашей службы поддержки, он ответит вам здесь.",
    ),
    "zh": (
        "我会把这段对话转给我们支持团队的工作人员，他们会尽快在这里回复您。",
        "我会把您的问题转给我们支持团队的工作人员，他们会在这里回复您。",
    ),
    TRADITIONAL_CHINESE: (
        "我會把這段對話轉給我們支援團隊的工作人員，他們會盡快在這裡回覆您。",
        "我會把您的問題轉給我們支援團隊的工作人員，他們會在這裡回覆您。",
    ),
    "ja": (
        "この会話をサポートチームの担当者に引き継ぎます。できるだけ早くこちらで返信いたします。",
        "ご質問をサポートチームの担当者に引き継ぎます。こちらで返信いたします。",
    ),
    "ko": (
        "이 대화를 지원팀 담당자에게 넘겨 드리겠습니다. 담당자가 최대한 빨리 여기에서 답변해 드릴 "
        "것입니다.",
        "문의하신 내용을 지원팀 담당자에게 넘겨 드리겠습니다. 담당자가 여기에서 답변해 드릴 "
        "것입니다.",
    ),
    "ar": (
        "سأحوّل هذه المحادثة إلى أحد أعضاء فريق الدعم لدينا، وسيرد عليك هنا في أقرب وقت ممكن.",
        "سأحوّل سؤالك إلى أحد أعضاء فريق الدعم لدينا، وسيرد عليك هنا.",
    ),
}

_OPENINGS = {
    "en": {
        R.REQUESTED_HUMAN: "Of course.",
        R.NEGATIVE_SENTIMENT: "I'm sorry this has been frustrating.",
        R.REPEATED_FAILURE: "I'm sorry I haven't been able to help.",
        R.LOW_CONFIDENCE: "I don't know the answer to that for certain, and I'd rather not guess.",
        R.OUT_OF_SCOPE: "I don't know: our help articles don't cover that.",
        R.PROVIDER_FAILURE: "I can't answer right now.",
    },
    "de": {
        R.REQUESTED_HUMAN: "Gern.",
        R.NEGATIVE_SENTIMENT: "Es tut mir leid, dass das so ärgerlich war.",
        R.REPEATED_FAILURE: "Es tut mir leid, dass ich Ihnen nicht helfen konnte.",
        R.LOW_CONFIDENCE: "Das weiß ich nicht sicher, und ich möchte nicht raten.",
        R.OUT_OF_SCOPE: "Das weiß ich nicht, denn unsere Hilfeartikel behandeln das nicht.",
        R.PROVIDER_FAILURE: "Ich kann gerade nicht antworten.",
    },
    "fr": {
        R.REQUESTED_HUMAN: "Bien sûr.",
        R.NEGATIVE_SENTIMENT: "Je suis désolé que ce soit si frustrant.",
        R.REPEATED_FAILURE: "Je suis désolé de ne pas avoir pu vous aider.",
        R.LOW_CONFIDENCE: "Je ne connais pas la réponse avec certitude et je préfère ne pas "
        "deviner.",
        R.OUT_OF_SCOPE: "Je ne sais pas, car nos articles d'aide ne traitent pas ce sujet.",
        R.PROVIDER_FAILURE: "Je ne peux pas répondre pour le moment.",
    },
    "es": {
        R.REQUESTED_HUMAN: "Por supuesto.",
        R.NEGATIVE_SENTIMENT: "Siento que esto haya sido tan frustrante.",
        R.REPEATED_FAILURE: "Siento no haber podido ayudarle.",
        R.LOW_CONFIDENCE: "No conozco la respuesta con certeza y prefiero no adivinar.",
        R.OUT_OF_SCOPE: "No lo sé, porque nuestros artículos de ayuda no tratan ese tema.",
        R.PROVIDER_FAILURE: "Ahora mismo no puedo responder.",
    },
    "pt": {
        R.REQUESTED_HUMAN: "Claro.",
        R.NEGATIVE_SENTIMENT: "Lamento que isto tenha sido tão frustrante.",
        R.REPEATED_FAILURE: "Lamento não ter conseguido ajudar.",
        R.LOW_CONFIDENCE: "Não sei a resposta com certeza e prefiro não adivinhar.",
        R.OUT_OF_SCOPE: "Não sei, porque os nossos artigos de ajuda não tratam desse assunto.",
        R.PROVIDER_FAILURE: "Não consigo responder agora.",
    },
    "it": {
        R.REQUESTED_HUMAN: "Certo.",
        R.NEGATIVE_SENTIMENT: "Mi dispiace che sia stato così frustrante.",
        R.REPEATED_FAILURE: "Mi dispiace di non essere riuscito ad aiutarla.",
        R.LOW_CONFIDENCE: "Non conosco la risposta con certezza e preferisco non tirare a "
        "indovinare.",
        R.OUT_OF_SCOPE: "Non lo so, perché i nostri articoli di aiuto non trattano questo "
        "argomento.",
        R.PROVIDER_FAILURE: "In questo momento non posso rispondere.",
    },
    "nl": {
        R.REQUESTED_HUMAN: "Natuurlijk.",
        R.NEGATIVE_SENTIMENT: "Het spijt me dat dit zo vervelend was.",
        R.REPEATED_FAILURE: "Het spijt me dat ik u niet heb kunnen helpen.",
        R.LOW_CONFIDENCE: "Dat weet ik niet zeker, en ik gok liever niet.",
        R.OUT_OF_SCOPE: "Dat weet ik niet, want onze helpartikelen gaan daar niet over.",
        R.PROVIDER_FAILURE: "Ik kan nu niet antwoorden.",
    },
    "pl": {
        R.REQUESTED_HUMAN: "Oczywiście.",
        R.NEGATIVE_SENTIMENT: "Przykro mi, że to było tak frustrujące.",
        R.REPEATED_FAILURE: "Przykro mi, że nie udało mi się pomóc.",
        R.LOW_CONFIDENCE: "Nie znam odpowiedzi na pewno i wolę nie zgadywać.",
        R.OUT_OF_SCOPE: "Nie wiem, ponieważ nasze artykuły pomocy tego nie opisują.",
        R.PROVIDER_FAILURE: "Nie mogę teraz odpowiedzieć.",
    },
    "tr": {
        R.REQUESTED_HUMAN: "Elbette.",
        R.NEGATIVE_SENTIMENT: "Bunun bu kadar can sıkıcı olduğu için üzgünüm.",
        R.REPEATED_FAILURE: "Size yardımcı olamadığım için üzgünüm.",
        R.LOW_CONFIDENCE: "Bunun cevabını kesin olarak bilmiyorum ve tahmin etmek istemem.",
        R.OUT_OF_SCOPE: "Bilmiyorum, çünkü yardım makalelerimiz bu konuyu kapsamıyor.",
        R.PROVIDER_FAILURE: "Şu anda yanıt veremiyorum.",
    },
    "ru": {
        R.REQUESTED_HUMAN: "Конечно.",
        R.NEGATIVE_SENTIMENT: "Мне жаль, что это вызвало столько неудобств.",
        R.REPEATED_FAILURE: "Мне жаль, что я не смог помочь.",
        R.LOW_CONFIDENCE: "Я не знаю ответа наверняка и не хочу гадать.",
        R.OUT_OF_SCOPE: "Я не знаю: наши справочные статьи этого не описывают.",
        R.PROVIDER_FAILURE: "Сейчас я не могу ответить.",
    },
    "zh": {
        R.REQUESTED_HUMAN: "好的。",
        R.NEGATIVE_SENTIMENT: "很抱歉给您带来了困扰。",
        R.REPEATED_FAILURE: "很抱歉没能帮到您。",
        R.LOW_CONFIDENCE: "这个问题我不能确定答案，所以不想乱猜。",
        R.OUT_OF_SCOPE: "这个我不知道，我们的帮助文章没有涉及这个问题。",
        R.PROVIDER_FAILURE: "我现在无法回答。",
    },
    TRADITIONAL_CHINESE: {
        R.REQUESTED_HUMAN: "好的。",
        R.NEGATIVE_SENTIMENT: "很抱歉給您帶來了困擾。",
        R.REPEATED_FAILURE: "很抱歉沒能幫到您。",
        R.LOW_CONFIDENCE: "這個問題我不能確定答案，所以不想亂猜。",
        R.OUT_OF_SCOPE: "這個我不知道，我們的說明文章沒有涵蓋這個問題。",
        R.PROVIDER_FAILURE: "我現在無法回答。",
    },
    "ja": {
        R.REQUESTED_HUMAN: "承知しました。",
        R.NEGATIVE_SENTIMENT: "ご不便をおかけして申し訳ありません。",
        R.REPEATED_FAILURE: "お役に立てず申し訳ありません。",
        R.LOW_CONFIDENCE: "確かな答えがわからないため、推測でお答えするのは控えます。",
        R.OUT_OF_SCOPE: "わかりません。ヘルプ記事ではこの内容を扱っていません。",
        R.PROVIDER_FAILURE: "現在お答えできません。",
    },
    "ko": {
        R.REQUESTED_HUMAN: "알겠습니다.",
        R.NEGATIVE_SENTIMENT: "불편을 드려 죄송합니다.",
        R.REPEATED_FAILURE: "도움을 드리지 못해 죄송합니다.",
        R.LOW_CONFIDENCE: "확실한 답을 알지 못해서 추측하지 않겠습니다.",
        R.OUT_OF_SCOPE: "잘 모르겠습니다. 도움말 문서에서 이 내용을 다루지 않습니다.",
        R.PROVIDER_FAILURE: "지금은 답변할 수 없습니다.",
    },
    "ar": {
        R.REQUESTED_HUMAN: "بالتأكيد.",
        R.NEGATIVE_SENTIMENT: "أعتذر عن هذا الإزعاج.",
        R.REPEATED_FAILURE: "أعتذر لأنني لم أتمكن من مساعدتك.",
        R.LOW_CONFIDENCE: "لا أعرف الإجابة بشكل مؤكد، وأفضّل ألا أخمّن.",
        R.OUT_OF_SCOPE: "لا أعرف، فمقالات المساعدة لدينا لا تتناول هذا الموضوع.",
        R.PROVIDER_FAILURE: "لا يمكنني الرد الآن.",
    },
}

# Openings for a handoff caused by a sensitive topic, which replace the
# opening of its reason: the customer hears why a person is needed, not
# that the help articles lack an answer.
_TOPIC_OPENINGS = {
    "en": {
        SensitiveTopic.BILLING_DISPUTE: "A person on our team needs to review this charge.",
        SensitiveTopic.ACCOUNT_SECURITY: "A person on our team needs to look into the security "
        "of your account.",
    },
    "de": {
        SensitiveTopic.BILLING_DISPUTE: "Diese Abbuchung muss eine Person aus unserem Team prüfen.",
        SensitiveTopic.ACCOUNT_SECURITY: "Die Sicherheit Ihres Kontos muss eine Person aus "
        "unserem Team prüfen.",
    },
    "fr": {
        SensitiveTopic.BILLING_DISPUTE: "Une personne de notre équipe doit examiner ce "
        "prélèvement.",
        SensitiveTopic.ACCOUNT_SECURITY: "Une personne de notre équipe doit vérifier la "
        "sécurité de votre compte.",
    },
    "es": {
        SensitiveTopic.BILLING_DISPUTE: "Una persona de nuestro equipo debe revisar este cargo.",
        SensitiveTopic.ACCOUNT_SECURITY: "Una persona de nuestro equipo debe revisar la "
        "seguridad de su cuenta.",
    },
    "pt": {
        SensitiveTopic.BILLING_DISPUTE: "Uma pessoa da nossa equipe precisa de analisar esta "
        "cobrança.",
        SensitiveTopic.ACCOUNT_SECURITY: "Uma pessoa da nossa equipe precisa de verificar a "
        "segurança da sua conta.",
    },
    "it": {
        SensitiveTopic.BILLING_DISPUTE: "Una persona del nostro team deve verificare questo "
        "addebito.",
        SensitiveTopic.ACCOUNT_SECURITY: "Una persona del nostro team deve verificare la "
        "sicurezza del suo account.",
    },
    "nl": {
        SensitiveTopic.BILLING_DISPUTE: "Een medewerker van ons team moet deze afschrijving "
        "controleren.",
        SensitiveTopic.ACCOUNT_SECURITY: "Een medewerker van ons team moet de beveiliging van "
        "uw account controleren.",
    },
    "pl": {
        SensitiveTopic.BILLING_DISPUTE: "Osoba z naszego zespołu musi sprawdzić to obciążenie.",
        SensitiveTopic.ACCOUNT_SECURITY: "Osoba z naszego zespołu musi sprawdzić "
        "bezpieczeństwo Twojego konta.",
    },
    "tr": {
        SensitiveTopic.BILLING_DISPUTE: "Bu ödemeyi ekibimizden bir kişinin incelemesi gerekiyor.",
        SensitiveTopic.ACCOUNT_SECURITY: "Hesabınızın güvenliğini ekibimizden bir kişinin "
        "incelemesi gerekiyor.",
    },
    "ru": {
        SensitiveTopic.BILLING_DISPUTE: "Этот платёж должен проверить сотрудник нашей команды.",
        SensitiveTopic.ACCOUNT_SECURITY: "Безопасность вашего аккаунта должен проверить "
        "сотрудник нашей команды.",
    },
    "zh": {
        SensitiveTopic.BILLING_DISPUTE: "这笔扣款需要由我们团队的工作人员审核。",
        SensitiveTopic.ACCOUNT_SECURITY: "您账户的安全问题需要由我们团队的工作人员核查。",
    },
    TRADITIONAL_CHINESE: {
        SensitiveTopic.BILLING_DISPUTE: "這筆扣款需要由我們團隊的工作人員審核。",
        SensitiveTopic.ACCOUNT_SECURITY: "您帳戶的安全問題需要由我們團隊的工作人員核查。",
    },
    "ja": {
        SensitiveTopic.BILLING_DISPUTE: "この請求はチームの担当者が確認する必要があります。",
        SensitiveTopic.ACCOUNT_SECURITY: "アカウントのセキュリティはチームの担当者が確認する"
        "必要があります。",
    },
    "ko": {
        SensitiveTopic.BILLING_DISPUTE: "이 청구 건은 저희 팀 담당자가 검토해야 합니다.",
        SensitiveTopic.ACCOUNT_SECURITY: "계정 보안 문제는 저희 팀 담당자가 확인해야 합니다.",
    },
    "ar": {
        SensitiveTopic.BILLING_DISPUTE: "يجب أن يراجع أحد أعضاء فريقنا هذه الرسوم.",
        SensitiveTopic.ACCOUNT_SECURITY: "يجب أن يتحقق أحد أعضاء فريقنا من أمان حسابك.",
    },
}

LANGUAGES = tuple(_OPENINGS)
# Chinese and Japanese put no space after a full stop.
_UNSPACED = frozenset({"zh", TRADITIONAL_CHINESE, "ja"})


def acknowledgement(
    reason: HandoffReason,
    language: str = DEFAULT_LANGUAGE,
    topic: SensitiveTopic | None = None,
) -> str:
    """Return the message that a person will take over, in ``language``.

    A sensitive ``topic`` replaces the reason's opening and passes the whole
    conversation on. A language without written texts gets English.
    """
    if language not in _OPENINGS:
        language = DEFAULT_LANGUAGE
    conversation, question = _PASSING[language]
    space = "" if language in _UNSPACED else " "
    if topic is not None:
        return f"{_TOPIC_OPENINGS[language][topic]}{space}{conversation}"
    passing = conversation if reason in _CONVERSATION_REASONS else question
    return f"{_OPENINGS[language][reason]}{space}{passing}"


def connecting_notice(language: str = DEFAULT_LANGUAGE) -> str:
    """Return the notice that a person will take over the conversation, in ``language``.

    A language without written texts gets English.
    """
    return _PASSING.get(language, _PASSING[DEFAULT_LANGUAGE])[0]

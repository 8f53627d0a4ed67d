/*
 * Campfire chat widget.
 *
 * Plain ES5 JavaScript with no dependencies. `make widget` minifies this file
 * into src/campfire_server/static/widget.js, which the server serves. The host
 * page sets window.CampfireConfig and then loads that file. The widget draws
 * itself in a Shadow DOM, so host styles cannot reach it and its styles cannot
 * reach the host. Text from the server or the host page is inserted with textContent and
 * never parsed as HTML.
 */
(function () {
  'use strict';

  if (window.Campfire && window.Campfire.version) {
    return; // The snippet was pasted twice: keep the first widget.
  }

  var VERSION = '2.0.0';
  var SCRIPT = document.currentScript;
  var EVENTS = [
    'conversation:started', 'message:received', 'message:sent', 'handoff:requested',
    'handoff:assigned', 'widget:opened', 'widget:closed', 'error'
  ];
  var MAX_CONTENT = 10000; // Unicode code points, as the API counts them.
  var TYPING_SEND_EVERY_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var TYPING_SHOW_MS = 6000;
  var POLL_MS = 4000;
  var SOCKET_FAILURES_BEFORE_POLLING = 3;
  // The close code of a socket rejected because its organization has reached its maximum of sockets.
  var CLOSE_TOO_MANY_SOCKETS = 4429;
  var HISTORY_PAGES = 5;

  // Strings ---------------------------------------------------------------

  var STRINGS = {
    en: {
      openChat: 'Open chat', closeChat: 'Close chat',
      unread: { one: '{n} unread message', other: '{n} unread messages' },
      title: 'Chat with us', subtitle: 'We usually answer right away',
      greeting: 'Hi! Ask us anything. Our assistant answers right away, and a person can take over.',
      greetingNamed: 'Hi {name}! Ask us anything. Our assistant answers right away, and a person can take over.',
      placeholder: 'Write a message…', messageLabel: 'Message', send: 'Send',
      you: 'You', assistant: 'Assistant', agent: 'Support agent', system: 'Campfire',
      sources: 'Sources', notSent: 'Not sent.', retry: 'Retry',
      typingAgent: '{name} is typing…', typingAssistant: 'The assistant is typing…',
      queued: 'Connecting you with a person.', queuePosition: 'You are number {n} in line.',
      waitSoon: 'Expected wait: under a minute.',
      waitMinutes: { one: 'Expected wait: about {n} minute.', other: 'Expected wait: about {n} minutes.' },
      assigned: '{name} has joined the conversation.', anAgent: 'An agent',
      ratePrompt: 'How did we do?', rateLabel: 'Rate {n} out of 5',
      commentLabel: 'Anything to add? (optional)', rateSend: 'Send rating',
      rateThanks: 'Thanks for your feedback.', messageLog: 'Conversation',
      errTooMany: 'Too many messages — please wait a few seconds and try again.',
      errTooManyWait: {
        one: 'Too many messages — please wait {n} second and try again.',
        other: 'Too many messages — please wait {n} seconds and try again.'
      },
      errTooManyChats: 'Too many chats were started from your network — please wait a minute and try again.',
      errTooManyChatsWait: {
        one: 'Too many chats were started from your network — please wait {n} second and try again.',
        other: 'Too many chats were started from your network — please wait {n} seconds and try again.'
      },
      errBusy: 'Too many requests — please wait a few seconds and try again.',
      errBusyWait: {
        one: 'Too many requests — please wait {n} second and try again.',
        other: 'Too many requests — please wait {n} seconds and try again.'
      },
      errNetwork: 'Can\u2019t reach the chat service. Check your connection and try again.',
      errUnavailable: 'Chat isn\u2019t available on this page right now.',
      errTooLong: 'That message is too long. Please shorten it to 10,000 characters or fewer.',
      errInvalid: 'That message couldn\u2019t be sent. Please check it and try again.',
      errNoText: 'That message has no visible text. Please write something and try again.',
      errServer: 'Something went wrong on our side. Please try again in a moment.',
      errLiveBusy: 'Live chat is busy right now, so new replies may take a few seconds to appear.',
      errLive: 'The live connection was interrupted, so new replies may take a few seconds to appear.',
      errRating: 'Your rating couldn\u2019t be saved. Please try again.',
      dismiss: 'Dismiss'
    },
    fr: {
      openChat: 'Ouvrir le chat', closeChat: 'Fermer le chat',
      unread: { one: '{n} message non lu', other: '{n} messages non lus' },
      title: 'Discutons', subtitle: 'Nous répondons en général tout de suite',
      greeting: 'Bonjour ! Posez votre question : notre assistant répond tout de suite, et une personne peut prendre le relais.',
      greetingNamed: 'Bonjour {name} ! Posez votre question : notre assistant répond tout de suite, et une personne peut prendre le relais.',
      placeholder: 'Écrivez un message…', messageLabel: 'Message', send: 'Envoyer',
      you: 'Vous', assistant: 'Assistant', agent: 'Conseiller', system: 'Campfire', sources: 'Sources',
      notSent: 'Non envoyé.', retry: 'Réessayer', typingAgent: '{name} écrit…',
      typingAssistant: 'L\u2019assistant écrit…', queued: 'Nous vous mettons en relation avec une personne.',
      queuePosition: 'Vous êtes numéro {n} dans la file.', waitSoon: 'Attente prévue : moins d\u2019une minute.',
      waitMinutes: { one: 'Attente prévue : environ {n} minute.', other: 'Attente prévue : environ {n} minutes.' },
      assigned: '{name} a rejoint la conversation.',
      anAgent: 'Un conseiller', ratePrompt: 'Comment était notre aide ?', rateLabel: 'Noter {n} sur 5',
      commentLabel: 'Un commentaire ? (facultatif)', rateSend: 'Envoyer la note',
      rateThanks: 'Merci pour votre avis.', messageLog: 'Conversation',
      errTooMany: 'Trop de messages — patientez quelques secondes puis réessayez.',
      errTooManyWait: {
        one: 'Trop de messages — patientez {n} seconde puis réessayez.',
        other: 'Trop de messages — patientez {n} secondes puis réessayez.'
      },
      errTooManyChats: 'Trop de conversations ouvertes depuis votre réseau — patientez une minute puis réessayez.',
      errTooManyChatsWait: {
        one: 'Trop de conversations ouvertes depuis votre réseau — patientez {n} seconde puis réessayez.',
        other: 'Trop de conversations ouvertes depuis votre réseau — patientez {n} secondes puis réessayez.'
      },
      errBusy: 'Trop de requêtes — patientez quelques secondes puis réessayez.',
      errBusyWait: {
        one: 'Trop de requêtes — patientez {n} seconde puis réessayez.',
        other: 'Trop de requêtes — patientez {n} secondes puis réessayez.'
      },
      errNetwork: 'Le service de chat est injoignable. Vérifiez votre connexion et réessayez.',
      errUnavailable: 'Le chat n\u2019est pas disponible sur cette page pour le moment.',
      errTooLong: 'Ce message est trop long : 10 000 caractères au plus.',
      errInvalid: 'Ce message n\u2019a pas pu être envoyé. Vérifiez-le et réessayez.',
      errNoText: 'Ce message n\u2019a aucun texte visible. Écrivez quelque chose et réessayez.',
      errServer: 'Une erreur s\u2019est produite chez nous. Réessayez dans un instant.',
      errLiveBusy: 'Le chat en direct est saturé : les nouvelles réponses peuvent mettre quelques secondes à s\u2019afficher.',
      errLive: 'La connexion en direct a été interrompue : les nouvelles réponses peuvent mettre quelques secondes à s\u2019afficher.',
      errRating: 'Votre note n\u2019a pas pu être enregistrée. Réessayez.', dismiss: 'Fermer'
    },
    de: {
      openChat: 'Chat öffnen', closeChat: 'Chat schließen',
      unread: { one: '{n} ungelesene Nachricht', other: '{n} ungelesene Nachrichten' },
      title: 'Schreiben Sie uns', subtitle: 'Wir antworten meist sofort',
      greeting: 'Hallo! Fragen Sie uns alles. Unser Assistent antwortet sofort, und ein Mensch kann übernehmen.',
      greetingNamed: 'Hallo {name}! Fragen Sie uns alles. Unser Assistent antwortet sofort, und ein Mensch kann übernehmen.',
      placeholder: 'Nachricht schreiben…', messageLabel: 'Nachricht', send: 'Senden',
      you: 'Sie', assistant: 'Assistent', agent: 'Support', system: 'Campfire', sources: 'Quellen',
      notSent: 'Nicht gesendet.', retry: 'Erneut senden', typingAgent: '{name} schreibt…',
      typingAssistant: 'Der Assistent schreibt…', queued: 'Wir verbinden Sie mit einem Menschen.',
      queuePosition: 'Sie sind Nummer {n} in der Warteschlange.', waitSoon: 'Wartezeit: unter einer Minute.',
      waitMinutes: { one: 'Wartezeit: etwa {n} Minute.', other: 'Wartezeit: etwa {n} Minuten.' },
      assigned: '{name} ist dem Gespräch beigetreten.',
      anAgent: 'Ein Mitarbeiter', ratePrompt: 'Wie zufrieden waren Sie?', rateLabel: '{n} von 5 Sternen',
      commentLabel: 'Noch etwas? (optional)', rateSend: 'Bewertung senden',
      rateThanks: 'Danke für Ihre Rückmeldung.', messageLog: 'Gespräch',
      errTooMany: 'Zu viele Nachrichten — bitte warten Sie einige Sekunden.',
      errTooManyWait: {
        one: 'Zu viele Nachrichten — bitte warten Sie {n} Sekunde.',
        other: 'Zu viele Nachrichten — bitte warten Sie {n} Sekunden.'
      },
      errTooManyChats: 'Zu viele Chats aus Ihrem Netzwerk — bitte warten Sie eine Minute.',
      errTooManyChatsWait: {
        one: 'Zu viele Chats aus Ihrem Netzwerk — bitte warten Sie {n} Sekunde.',
        other: 'Zu viele Chats aus Ihrem Netzwerk — bitte warten Sie {n} Sekunden.'
      },
      errBusy: 'Zu viele Anfragen — bitte warten Sie einige Sekunden.',
      errBusyWait: {
        one: 'Zu viele Anfragen — bitte warten Sie {n} Sekunde.',
        other: 'Zu viele Anfragen — bitte warten Sie {n} Sekunden.'
      },
      errNetwork: 'Der Chat ist nicht erreichbar. Prüfen Sie Ihre Verbindung.',
      errUnavailable: 'Der Chat ist auf dieser Seite gerade nicht verfügbar.',
      errTooLong: 'Die Nachricht ist zu lang: höchstens 10.000 Zeichen.',
      errInvalid: 'Die Nachricht konnte nicht gesendet werden. Bitte prüfen Sie sie.',
      errNoText: 'Die Nachricht enthält keinen sichtbaren Text. Bitte schreiben Sie etwas.',
      errServer: 'Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es gleich noch einmal.',
      errLiveBusy: 'Der Live-Chat ist gerade ausgelastet, neue Antworten erscheinen eventuell erst nach einigen Sekunden.',
      errLive: 'Die Live-Verbindung wurde unterbrochen, neue Antworten erscheinen eventuell erst nach einigen Sekunden.',
      errRating: 'Ihre Bewertung konnte nicht gespeichert werden.', dismiss: 'Schließen'
    },
    es: {
      openChat: 'Abrir chat', closeChat: 'Cerrar chat',
      unread: { one: '{n} mensaje sin leer', other: '{n} mensajes sin leer' },
      title: 'Hable con nosotros', subtitle: 'Solemos responder al momento',
      greeting: '¡Hola! Pregúntenos lo que quiera. Nuestro asistente responde al momento y una persona puede continuar.',
      greetingNamed: '¡Hola, {name}! Pregúntenos lo que quiera. Nuestro asistente responde al momento y una persona puede continuar.',
      placeholder: 'Escriba un mensaje…', messageLabel: 'Mensaje', send: 'Enviar',
      you: 'Usted', assistant: 'Asistente', agent: 'Soporte', system: 'Campfire', sources: 'Fuentes',
      notSent: 'No enviado.', retry: 'Reintentar', typingAgent: '{name} está escribiendo…',
      typingAssistant: 'El asistente está escribiendo…', queued: 'Le estamos conectando con una persona.',
      queuePosition: 'Es el número {n} en la cola.', waitSoon: 'Espera prevista: menos de un minuto.',
      waitMinutes: {
        one: 'Espera prevista: alrededor de {n} minuto.',
        other: 'Espera prevista: alrededor de {n} minutos.'
      },
      assigned: '{name} se ha unido a la conversación.',
      anAgent: 'Un agente', ratePrompt: '¿Qué tal le hemos atendido?', rateLabel: 'Valorar con {n} de 5',
      commentLabel: '¿Algo más? (opcional)', rateSend: 'Enviar valoración',
      rateThanks: 'Gracias por su opinión.', messageLog: 'Conversación',
      errTooMany: 'Demasiados mensajes: espere unos segundos y vuelva a intentarlo.',
      errTooManyWait: {
        one: 'Demasiados mensajes: espere {n} segundo y vuelva a intentarlo.',
        other: 'Demasiados mensajes: espere {n} segundos y vuelva a intentarlo.'
      },
      errTooManyChats: 'Demasiados chats iniciados desde su red: espere un minuto y vuelva a intentarlo.',
      errTooManyChatsWait: {
        one: 'Demasiados chats iniciados desde su red: espere {n} segundo y vuelva a intentarlo.',
        other: 'Demasiados chats iniciados desde su red: espere {n} segundos y vuelva a intentarlo.'
      },
      errBusy: 'Demasiadas solicitudes: espere unos segundos y vuelva a intentarlo.',
      errBusyWait: {
        one: 'Demasiadas solicitudes: espere {n} segundo y vuelva a intentarlo.',
        other: 'Demasiadas solicitudes: espere {n} segundos y vuelva a intentarlo.'
      },
      errNetwork: 'No se puede conectar con el chat. Compruebe su conexión.',
      errUnavailable: 'El chat no está disponible en esta página ahora mismo.',
      errTooLong: 'El mensaje es demasiado largo: 10.000 caracteres como máximo.',
      errInvalid: 'No se pudo enviar el mensaje. Revíselo y vuelva a intentarlo.',
      errNoText: 'El mensaje no tiene texto visible. Escriba algo y vuelva a intentarlo.',
      errServer: 'Algo ha fallado por nuestra parte. Inténtelo de nuevo en un momento.',
      errLiveBusy: 'El chat en directo está saturado: las respuestas nuevas pueden tardar unos segundos en aparecer.',
      errLive: 'La conexión en directo se ha interrumpido: las respuestas nuevas pueden tardar unos segundos en aparecer.',
      errRating: 'No se pudo guardar su valoración.', dismiss: 'Cerrar'
    },
    pt: {
      openChat: 'Abrir chat', closeChat: 'Fechar chat',
      unread: { one: '{n} mensagem não lida', other: '{n} mensagens não lidas' },
      title: 'Fale conosco', subtitle: 'Costumamos responder na hora',
      greeting: 'Olá! Pergunte o que quiser. Nosso assistente responde na hora, e uma pessoa pode assumir a conversa.',
      greetingNamed: 'Olá, {name}! Pergunte o que quiser. Nosso assistente responde na hora, e uma pessoa pode assumir a conversa.',
      placeholder: 'Escreva uma mensagem…', messageLabel: 'Mensagem', send: 'Enviar',
      you: 'Você', assistant: 'Assistente', agent: 'Atendente', system: 'Campfire', sources: 'Fontes',
      notSent: 'Não enviada.', retry: 'Tentar de novo', typingAgent: '{name} está digitando…',
      typingAssistant: 'O assistente está digitando…', queued: 'Estamos conectando você a uma pessoa.',
      queuePosition: 'Você é o número {n} na fila.', waitSoon: 'Espera prevista: menos de um minuto.',
      waitMinutes: { one: 'Espera prevista: cerca de {n} minuto.', other: 'Espera prevista: cerca de {n} minutos.' },
      assigned: '{name} entrou na conversa.',
      anAgent: 'Um atendente', ratePrompt: 'Como foi o atendimento?', rateLabel: 'Dar nota {n} de 5',
      commentLabel: 'Algo a acrescentar? (opcional)', rateSend: 'Enviar avaliação',
      rateThanks: 'Obrigado pela sua avaliação.', messageLog: 'Conversa',
      errTooMany: 'Mensagens demais — aguarde alguns segundos e tente de novo.',
      errTooManyWait: {
        one: 'Mensagens demais — aguarde {n} segundo e tente de novo.',
        other: 'Mensagens demais — aguarde {n} segundos e tente de novo.'
      },
      errTooManyChats: 'Muitas conversas foram iniciadas a partir da sua rede — aguarde um minuto e tente de novo.',
      errTooManyChatsWait: {
        one: 'Muitas conversas foram iniciadas a partir da sua rede — aguarde {n} segundo e tente de novo.',
        other: 'Muitas conversas foram iniciadas a partir da sua rede — aguarde {n} segundos e tente de novo.'
      },
      errBusy: 'Solicitações demais — aguarde alguns segundos e tente de novo.',
      errBusyWait: {
        one: 'Solicitações demais — aguarde {n} segundo e tente de novo.',
        other: 'Solicitações demais — aguarde {n} segundos e tente de novo.'
      },
      errNetwork: 'Não foi possível conectar ao chat. Verifique sua conexão e tente de novo.',
      errUnavailable: 'O chat não está disponível nesta página no momento.',
      errTooLong: 'Essa mensagem é longa demais: no máximo 10.000 caracteres.',
      errInvalid: 'Não foi possível enviar essa mensagem. Verifique-a e tente de novo.',
      errNoText: 'Essa mensagem não tem texto visível. Escreva algo e tente de novo.',
      errServer: 'Algo deu errado do nosso lado. Tente de novo em instantes.',
      errLiveBusy: 'O chat ao vivo está sobrecarregado: novas respostas podem levar alguns segundos para aparecer.',
      errLive: 'A conexão ao vivo foi interrompida: novas respostas podem levar alguns segundos para aparecer.',
      errRating: 'Não foi possível salvar sua avaliação. Tente de novo.', dismiss: 'Fechar'
    },
    it: {
      openChat: 'Apri la chat', closeChat: 'Chiudi la chat',
      unread: { one: '{n} messaggio non letto', other: '{n} messaggi non letti' },
      title: 'Scrivici', subtitle: 'Di solito rispondiamo subito',
      greeting: 'Ciao! Chiedici quello che vuoi. Il nostro assistente risponde subito e una persona può subentrare.',
      greetingNamed: 'Ciao {name}! Chiedici quello che vuoi. Il nostro assistente risponde subito e una persona può subentrare.',
      placeholder: 'Scrivi un messaggio…', messageLabel: 'Messaggio', send: 'Invia',
      you: 'Tu', assistant: 'Assistente', agent: 'Operatore', system: 'Campfire', sources: 'Fonti',
      notSent: 'Non inviato.', retry: 'Riprova', typingAgent: '{name} sta scrivendo…',
      typingAssistant: 'L\u2019assistente sta scrivendo…', queued: 'Ti stiamo mettendo in contatto con una persona.',
      queuePosition: 'Sei il numero {n} in coda.', waitSoon: 'Attesa prevista: meno di un minuto.',
      waitMinutes: { one: 'Attesa prevista: circa {n} minuto.', other: 'Attesa prevista: circa {n} minuti.' },
      assigned: '{name} si è unito alla conversazione.',
      anAgent: 'Un operatore', ratePrompt: 'Come ti abbiamo aiutato?', rateLabel: 'Valuta {n} su 5',
      commentLabel: 'Vuoi aggiungere qualcosa? (facoltativo)', rateSend: 'Invia valutazione',
      rateThanks: 'Grazie per il tuo parere.', messageLog: 'Conversazione',
      errTooMany: 'Troppi messaggi — attendi qualche secondo e riprova.',
      errTooManyWait: {
        one: 'Troppi messaggi — attendi {n} secondo e riprova.',
        other: 'Troppi messaggi — attendi {n} secondi e riprova.'
      },
      errTooManyChats: 'Troppe chat avviate dalla tua rete — attendi un minuto e riprova.',
      errTooManyChatsWait: {
        one: 'Troppe chat avviate dalla tua rete — attendi {n} secondo e riprova.',
        other: 'Troppe chat avviate dalla tua rete — attendi {n} secondi e riprova.'
      },
      errBusy: 'Troppe richieste — attendi qualche secondo e riprova.',
      errBusyWait: {
        one: 'Troppe richieste — attendi {n} secondo e riprova.',
        other: 'Troppe richieste — attendi {n} secondi e riprova.'
      },
      errNetwork: 'Impossibile raggiungere la chat. Controlla la connessione e riprova.',
      errUnavailable: 'La chat non è disponibile su questa pagina al momento.',
      errTooLong: 'Il messaggio è troppo lungo: al massimo 10.000 caratteri.',
      errInvalid: 'Impossibile inviare il messaggio. Controllalo e riprova.',
      errNoText: 'Il messaggio non contiene testo visibile. Scrivi qualcosa e riprova.',
      errServer: 'Si è verificato un errore da parte nostra. Riprova tra poco.',
      errLiveBusy: 'La chat dal vivo è sovraccarica: le nuove risposte potrebbero comparire dopo qualche secondo.',
      errLive: 'La connessione dal vivo si è interrotta: le nuove risposte potrebbero comparire dopo qualche secondo.',
      errRating: 'Impossibile salvare la tua valutazione. Riprova.', dismiss: 'Chiudi'
    },
    nl: {
      openChat: 'Chat openen', closeChat: 'Chat sluiten',
      unread: { one: '{n} ongelezen bericht', other: '{n} ongelezen berichten' },
      title: 'Chat met ons', subtitle: 'We antwoorden meestal meteen',
      greeting: 'Hallo! Vraag ons wat u wilt. Onze assistent antwoordt meteen, en een medewerker kan het overnemen.',
      greetingNamed: 'Hallo {name}! Vraag ons wat u wilt. Onze assistent antwoordt meteen, en een medewerker kan het overnemen.',
      placeholder: 'Typ een bericht…', messageLabel: 'Bericht', send: 'Versturen',
      you: 'U', assistant: 'Assistent', agent: 'Medewerker', system: 'Campfire', sources: 'Bronnen',
      notSent: 'Niet verstuurd.', retry: 'Opnieuw proberen', typingAgent: '{name} typt…',
      typingAssistant: 'De assistent typt…', queued: 'We verbinden u met een medewerker.',
      queuePosition: 'U bent nummer {n} in de wachtrij.', waitSoon: 'Verwachte wachttijd: minder dan een minuut.',
      waitMinutes: {
        one: 'Verwachte wachttijd: ongeveer {n} minuut.',
        other: 'Verwachte wachttijd: ongeveer {n} minuten.'
      },
      assigned: '{name} neemt deel aan het gesprek.',
      anAgent: 'Een medewerker', ratePrompt: 'Hoe hebben we het gedaan?', rateLabel: '{n} van de 5 sterren',
      commentLabel: 'Nog iets toe te voegen? (optioneel)', rateSend: 'Beoordeling versturen',
      rateThanks: 'Bedankt voor uw feedback.', messageLog: 'Gesprek',
      errTooMany: 'Te veel berichten — wacht een paar seconden en probeer het opnieuw.',
      errTooManyWait: {
        one: 'Te veel berichten — wacht {n} seconde en probeer het opnieuw.',
        other: 'Te veel berichten — wacht {n} seconden en probeer het opnieuw.'
      },
      errTooManyChats: 'Te veel chats gestart vanaf uw netwerk — wacht een minuut en probeer het opnieuw.',
      errTooManyChatsWait: {
        one: 'Te veel chats gestart vanaf uw netwerk — wacht {n} seconde en probeer het opnieuw.',
        other: 'Te veel chats gestart vanaf uw netwerk — wacht {n} seconden en probeer het opnieuw.'
      },
      errBusy: 'Te veel verzoeken — wacht een paar seconden en probeer het opnieuw.',
      errBusyWait: {
        one: 'Te veel verzoeken — wacht {n} seconde en probeer het opnieuw.',
        other: 'Te veel verzoeken — wacht {n} seconden en probeer het opnieuw.'
      },
      errNetwork: 'De chat is niet bereikbaar. Controleer uw verbinding en probeer het opnieuw.',
      errUnavailable: 'De chat is op deze pagina nu niet beschikbaar.',
      errTooLong: 'Dit bericht is te lang: maximaal 10.000 tekens.',
      errInvalid: 'Dit bericht kon niet worden verstuurd. Controleer het en probeer het opnieuw.',
      errNoText: 'Dit bericht bevat geen zichtbare tekst. Schrijf iets en probeer het opnieuw.',
      errServer: 'Er ging bij ons iets mis. Probeer het zo opnieuw.',
      errLiveBusy: 'De livechat is nu druk, dus nieuwe antwoorden kunnen een paar seconden later verschijnen.',
      errLive: 'De liveverbinding is onderbroken, dus nieuwe antwoorden kunnen een paar seconden later verschijnen.',
      errRating: 'Uw beoordeling kon niet worden opgeslagen. Probeer het opnieuw.', dismiss: 'Sluiten'
    },
    ru: {
      openChat: 'Открыть чат', closeChat: 'Закрыть чат',
      unread: {
        one: '{n} непрочитанное сообщение', few: '{n} непрочитанных сообщения',
        many: '{n} непрочитанных сообщений', other: '{n} непрочитанного сообщения'
      },
      title: 'Напишите нам', subtitle: 'Обычно мы отвечаем сразу',
      greeting: 'Здравствуйте! Задайте любой вопрос. Наш ассистент ответит сразу, а при необходимости подключится сотрудник.',
      greetingNamed: 'Здравствуйте, {name}! Задайте любой вопрос. Наш ассистент ответит сразу, а при необходимости подключится сотрудник.',
      placeholder: 'Напишите сообщение…', messageLabel: 'Сообщение', send: 'Отправить',
      you: 'Вы', assistant: 'Ассистент', agent: 'Сотрудник поддержки', system: 'Campfire', sources: 'Источники',
      notSent: 'Не отправлено.', retry: 'Повторить', typingAgent: '{name} печатает…',
      typingAssistant: 'Ассистент печатает…', queued: 'Соединяем вас с сотрудником.',
      queuePosition: 'Ваш номер в очереди: {n}.', waitSoon: 'Ожидание: меньше минуты.',
      waitMinutes: {
        one: 'Ожидание: примерно {n} минута.', few: 'Ожидание: примерно {n} минуты.',
        many: 'Ожидание: примерно {n} минут.', other: 'Ожидание: примерно {n} минуты.'
      },
      assigned: '{name} теперь в чате.', anAgent: 'Сотрудник',
      ratePrompt: 'Как мы справились?', rateLabel: 'Оценка {n} из 5',
      commentLabel: 'Хотите что-то добавить? (необязательно)', rateSend: 'Отправить оценку',
      rateThanks: 'Спасибо за отзыв.', messageLog: 'Разговор',
      errTooMany: 'Слишком много сообщений — подождите несколько секунд и попробуйте снова.',
      errTooManyWait: {
        one: 'Слишком много сообщений — подождите {n} секунду и попробуйте снова.',
        few: 'Слишком много сообщений — подождите {n} секунды и попробуйте снова.',
        many: 'Слишком много сообщений — подождите {n} секунд и попробуйте снова.',
        other: 'Слишком много сообщений — подождите {n} секунды и попробуйте снова.'
      },
      errTooManyChats: 'Из вашей сети начато слишком много чатов — подождите минуту и попробуйте снова.',
      errTooManyChatsWait: {
        one: 'Из вашей сети начато слишком много чатов — подождите {n} секунду и попробуйте снова.',
        few: 'Из вашей сети начато слишком много чатов — подождите {n} секунды и попробуйте снова.',
        many: 'Из вашей сети начато слишком много чатов — подождите {n} секунд и попробуйте снова.',
        other: 'Из вашей сети начато слишком много чатов — подождите {n} секунды и попробуйте снова.'
      },
      errBusy: 'Слишком много запросов — подождите несколько секунд и попробуйте снова.',
      errBusyWait: {
        one: 'Слишком много запросов — подождите {n} секунду и попробуйте снова.',
        few: 'Слишком много запросов — подождите {n} секунды и попробуйте снова.',
        many: 'Слишком много запросов — подождите {n} секунд и попробуйте снова.',
        other: 'Слишком много запросов — подождите {n} секунды и попробуйте снова.'
      },
      errNetwork: 'Не удаётся связаться с чатом. Проверьте подключение и попробуйте снова.',
      errUnavailable: 'Чат сейчас недоступен на этой странице.',
      errTooLong: 'Сообщение слишком длинное: не более 10 000 символов.',
      errInvalid: 'Не удалось отправить сообщение. Проверьте его и попробуйте снова.',
      errNoText: 'В сообщении нет видимого текста. Напишите что-нибудь и попробуйте снова.',
      errServer: 'У нас что-то пошло не так. Попробуйте ещё раз чуть позже.',
      errLiveBusy: 'Чат сейчас перегружен, поэтому новые ответы могут появляться с задержкой в несколько секунд.',
      errLive: 'Соединение прервалось, поэтому новые ответы могут появляться с задержкой в несколько секунд.',
      errRating: 'Не удалось сохранить вашу оценку. Попробуйте снова.', dismiss: 'Закрыть'
    },
    pl: {
      openChat: 'Otwórz czat', closeChat: 'Zamknij czat',
      unread: {
        one: '{n} nieprzeczytana wiadomość', few: '{n} nieprzeczytane wiadomości',
        many: '{n} nieprzeczytanych wiadomości', other: '{n} nieprzeczytanej wiadomości'
      },
      title: 'Porozmawiaj z nami', subtitle: 'Zwykle odpowiadamy od razu',
      greeting: 'Cześć! Zapytaj nas o cokolwiek. Nasz asystent odpowiada od razu, a w razie potrzeby rozmowę przejmie konsultant.',
      greetingNamed: 'Cześć, {name}! Zapytaj nas o cokolwiek. Nasz asystent odpowiada od razu, a w razie potrzeby rozmowę przejmie konsultant.',
      placeholder: 'Napisz wiadomość…', messageLabel: 'Wiadomość', send: 'Wyślij',
      you: 'Ty', assistant: 'Asystent', agent: 'Konsultant', system: 'Campfire', sources: 'Źródła',
      notSent: 'Nie wysłano.', retry: 'Ponów', typingAgent: '{name} pisze…',
      typingAssistant: 'Asystent pisze…', queued: 'Łączymy cię z konsultantem.',
      queuePosition: 'Twoje miejsce w kolejce: {n}.', waitSoon: 'Przewidywany czas oczekiwania: poniżej minuty.',
      waitMinutes: {
        one: 'Przewidywany czas oczekiwania: około {n} minuty.',
        few: 'Przewidywany czas oczekiwania: około {n} minut.',
        many: 'Przewidywany czas oczekiwania: około {n} minut.',
        other: 'Przewidywany czas oczekiwania: około {n} minuty.'
      },
      assigned: '{name} dołącza do rozmowy.', anAgent: 'Konsultant',
      ratePrompt: 'Jak nam poszło?', rateLabel: 'Oceń na {n} z 5',
      commentLabel: 'Chcesz coś dodać? (opcjonalnie)', rateSend: 'Wyślij ocenę',
      rateThanks: 'Dziękujemy za opinię.', messageLog: 'Rozmowa',
      errTooMany: 'Za dużo wiadomości — odczekaj kilka sekund i spróbuj ponownie.',
      errTooManyWait: {
        one: 'Za dużo wiadomości — odczekaj {n} sekundę i spróbuj ponownie.',
        few: 'Za dużo wiadomości — odczekaj {n} sekundy i spróbuj ponownie.',
        many: 'Za dużo wiadomości — odczekaj {n} sekund i spróbuj ponownie.',
        other: 'Za dużo wiadomości — odczekaj {n} sekundy i spróbuj ponownie.'
      },
      errTooManyChats: 'Z twojej sieci rozpoczęto zbyt wiele czatów — odczekaj minutę i spróbuj ponownie.',
      errTooManyChatsWait: {
        one: 'Z twojej sieci rozpoczęto zbyt wiele czatów — odczekaj {n} sekundę i spróbuj ponownie.',
        few: 'Z twojej sieci rozpoczęto zbyt wiele czatów — odczekaj {n} sekundy i spróbuj ponownie.',
        many: 'Z twojej sieci rozpoczęto zbyt wiele czatów — odczekaj {n} sekund i spróbuj ponownie.',
        other: 'Z twojej sieci rozpoczęto zbyt wiele czatów — odczekaj {n} sekundy i spróbuj ponownie.'
      },
      errBusy: 'Za dużo żądań — odczekaj kilka sekund i spróbuj ponownie.',
      errBusyWait: {
        one: 'Za dużo żądań — odczekaj {n} sekundę i spróbuj ponownie.',
        few: 'Za dużo żądań — odczekaj {n} sekundy i spróbuj ponownie.',
        many: 'Za dużo żądań — odczekaj {n} sekund i spróbuj ponownie.',
        other: 'Za dużo żądań — odczekaj {n} sekundy i spróbuj ponownie.'
      },
      errNetwork: 'Nie można połączyć się z czatem. Sprawdź połączenie i spróbuj ponownie.',
      errUnavailable: 'Czat jest teraz niedostępny na tej stronie.',
      errTooLong: 'Ta wiadomość jest za długa: maksymalnie 10 000 znaków.',
      errInvalid: 'Nie udało się wysłać tej wiadomości. Sprawdź ją i spróbuj ponownie.',
      errNoText: 'Ta wiadomość nie zawiera widocznego tekstu. Napisz coś i spróbuj ponownie.',
      errServer: 'Coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.',
      errLiveBusy: 'Czat na żywo jest teraz przeciążony, więc nowe odpowiedzi mogą pojawiać się z kilkusekundowym opóźnieniem.',
      errLive: 'Połączenie na żywo zostało przerwane, więc nowe odpowiedzi mogą pojawiać się z kilkusekundowym opóźnieniem.',
      errRating: 'Nie udało się zapisać twojej oceny. Spróbuj ponownie.', dismiss: 'Zamknij'
    },
    // Simplified Chinese, the table for every zh tag but the traditional ones.
    zh: {
      openChat: '打开聊天', closeChat: '关闭聊天', unread: '{n} 条未读消息',
      title: '联系我们', subtitle: '我们通常会立即回复',
      greeting: '您好！有任何问题都可以问我们。我们的智能助手会立即回答，也可以转接人工客服。',
      greetingNamed: '{name}，您好！有任何问题都可以问我们。我们的智能助手会立即回答，也可以转接人工客服。',
      placeholder: '输入消息…', messageLabel: '消息', send: '发送',
      you: '您', assistant: '助手', agent: '客服', system: 'Campfire', sources: '来源',
      notSent: '未发送。', retry: '重试', typingAgent: '{name} 正在输入…',
      typingAssistant: '助手正在输入…', queued: '正在为您转接人工客服。',
      queuePosition: '您在队列中排第 {n} 位。', waitSoon: '预计等待：不到 1 分钟。',
      waitMinutes: '预计等待：约 {n} 分钟。', assigned: '{name} 已加入对话。', anAgent: '一位客服',
      ratePrompt: '您对我们的服务满意吗？', rateLabel: '评 {n} 分（满分 5 分）',
      commentLabel: '还有什么要补充的吗？（选填）', rateSend: '提交评分',
      rateThanks: '感谢您的反馈。', messageLog: '对话',
      errTooMany: '消息发送过于频繁，请稍等几秒后重试。',
      errTooManyWait: '消息发送过于频繁，请等待 {n} 秒后重试。',
      errTooManyChats: '您所在的网络发起的对话过多，请等待一分钟后重试。',
      errTooManyChatsWait: '您所在的网络发起的对话过多，请等待 {n} 秒后重试。',
      errBusy: '请求过于频繁，请稍等几秒后重试。',
      errBusyWait: '请求过于频繁，请等待 {n} 秒后重试。',
      errNetwork: '无法连接到聊天服务。请检查网络连接后重试。',
      errUnavailable: '此页面暂时无法使用聊天。',
      errTooLong: '消息过长，请缩短到 10,000 个字符以内。',
      errInvalid: '消息未能发送。请检查后重试。',
      errNoText: '消息中没有可见的文字。请输入内容后重试。',
      errServer: '我们这边出了点问题，请稍后重试。',
      errLiveBusy: '实时聊天当前繁忙，新回复可能要过几秒才会显示。',
      errLive: '实时连接已中断，新回复可能要过几秒才会显示。',
      errRating: '您的评分未能保存，请重试。', dismiss: '关闭'
    },
    // Traditional Chinese, the table for zh-Hant and for zh-TW, zh-HK and zh-MO.
    'zh-hant': {
      openChat: '開啟聊天', closeChat: '關閉聊天', unread: '{n} 則未讀訊息',
      title: '聯絡我們', subtitle: '我們通常會立即回覆',
      greeting: '您好！有任何問題都可以問我們。我們的智慧助理會立即回答，也可以轉接真人客服。',
      greetingNamed: '{name}，您好！有任何問題都可以問我們。我們的智慧助理會立即回答，也可以轉接真人客服。',
      placeholder: '輸入訊息…', messageLabel: '訊息', send: '傳送',
      you: '您', assistant: '助理', agent: '客服', system: 'Campfire', sources: '來源',
      notSent: '未傳送。', retry: '重試', typingAgent: '{name} 正在輸入…',
      typingAssistant: '助理正在輸入…', queued: '正在為您轉接真人客服。',
      queuePosition: '您在佇列中排第 {n} 位。', waitSoon: '預計等候：不到 1 分鐘。',
      waitMinutes: '預計等候：約 {n} 分鐘。', assigned: '{name} 已加入對話。', anAgent: '一位客服',
      ratePrompt: '您對我們的服務滿意嗎？', rateLabel: '評 {n} 分（滿分 5 分）',
      commentLabel: '還有什麼要補充的嗎？（選填）', rateSend: '送出評分',
      rateThanks: '感謝您的回饋。', messageLog: '對話',
      errTooMany: '訊息傳送過於頻繁，請稍候幾秒後重試。',
      errTooManyWait: '訊息傳送過於頻繁，請等候 {n} 秒後重試。',
      errTooManyChats: '您所在的網路發起的對話過多，請等候一分鐘後重試。',
      errTooManyChatsWait: '您所在的網路發起的對話過多，請等候 {n} 秒後重試。',
      errBusy: '請求過於頻繁，請稍候幾秒後重試。',
      errBusyWait: '請求過於頻繁，請等候 {n} 秒後重試。',
      errNetwork: '無法連線到聊天服務。請檢查網路連線後重試。',
      errUnavailable: '此頁面暫時無法使用聊天。',
      errTooLong: '訊息過長，請縮短到 10,000 個字元以內。',
      errInvalid: '訊息未能傳送。請檢查後重試。',
      errNoText: '訊息中沒有可見的文字。請輸入內容後重試。',
      errServer: '我們這邊出了點問題，請稍後重試。',
      errLiveBusy: '即時聊天目前忙碌，新回覆可能要過幾秒才會顯示。',
      errLive: '即時連線已中斷，新回覆可能要過幾秒才會顯示。',
      errRating: '您的評分未能儲存，請重試。', dismiss: '關閉'
    },
    ja: {
      openChat: 'チャットを開く', closeChat: 'チャットを閉じる', unread: '未読メッセージ {n} 件',
      title: 'お問い合わせ', subtitle: '通常はすぐにお返事します',
      greeting: 'こんにちは！何でもお気軽にお尋ねください。アシスタントがすぐにお答えし、必要に応じて担当者が対応を引き継ぎます。',
      greetingNamed: '{name} 様、こんにちは！何でもお気軽にお尋ねください。アシスタントがすぐにお答えし、必要に応じて担当者が対応を引き継ぎます。',
      placeholder: 'メッセージを入力…', messageLabel: 'メッセージ', send: '送信',
      you: 'あなた', assistant: 'アシスタント', agent: 'サポート担当者', system: 'Campfire', sources: '出典',
      notSent: '送信されていません。', retry: '再送信', typingAgent: '{name} が入力中…',
      typingAssistant: 'アシスタントが入力中…', queued: '担当者におつなぎしています。',
      queuePosition: '現在 {n} 番目にお待ちいただいています。', waitSoon: '予想待ち時間：1 分未満。',
      waitMinutes: '予想待ち時間：約 {n} 分。', assigned: '{name} が会話に参加しました。', anAgent: '担当者',
      ratePrompt: '対応はいかがでしたか？', rateLabel: '5 段階中 {n} で評価',
      commentLabel: 'ご意見があればお書きください（任意）', rateSend: '評価を送信',
      rateThanks: 'ご意見ありがとうございました。', messageLog: '会話',
      errTooMany: 'メッセージが多すぎます。数秒待ってからもう一度お試しください。',
      errTooManyWait: 'メッセージが多すぎます。{n} 秒待ってからもう一度お試しください。',
      errTooManyChats: 'お使いのネットワークから開始されたチャットが多すぎます。1 分待ってからもう一度お試しください。',
      errTooManyChatsWait: 'お使いのネットワークから開始されたチャットが多すぎます。{n} 秒待ってからもう一度お試しください。',
      errBusy: 'リクエストが多すぎます。数秒待ってからもう一度お試しください。',
      errBusyWait: 'リクエストが多すぎます。{n} 秒待ってからもう一度お試しください。',
      errNetwork: 'チャットサービスに接続できません。接続を確認してもう一度お試しください。',
      errUnavailable: '現在このページではチャットをご利用いただけません。',
      errTooLong: 'メッセージが長すぎます。10,000 文字以内にしてください。',
      errInvalid: 'メッセージを送信できませんでした。内容を確認してもう一度お試しください。',
      errNoText: 'メッセージに表示される文字がありません。何か入力してもう一度お試しください。',
      errServer: 'こちらで問題が発生しました。しばらくしてからもう一度お試しください。',
      errLiveBusy: 'ライブチャットが混み合っているため、新しい返信の表示に数秒かかることがあります。',
      errLive: 'ライブ接続が中断されたため、新しい返信の表示に数秒かかることがあります。',
      errRating: '評価を保存できませんでした。もう一度お試しください。', dismiss: '閉じる'
    },
    ko: {
      openChat: '채팅 열기', closeChat: '채팅 닫기', unread: '읽지 않은 메시지 {n}개',
      title: '문의하기', subtitle: '보통 바로 답변해 드립니다',
      greeting: '안녕하세요! 무엇이든 물어보세요. 어시스턴트가 바로 답변하며, 필요하면 상담원이 이어서 도와드립니다.',
      greetingNamed: '{name}님, 안녕하세요! 무엇이든 물어보세요. 어시스턴트가 바로 답변하며, 필요하면 상담원이 이어서 도와드립니다.',
      placeholder: '메시지를 입력하세요…', messageLabel: '메시지', send: '보내기',
      you: '나', assistant: '어시스턴트', agent: '상담원', system: 'Campfire', sources: '출처',
      notSent: '전송되지 않았습니다.', retry: '다시 시도', typingAgent: '{name}님이 입력 중…',
      typingAssistant: '어시스턴트가 입력 중…', queued: '상담원에게 연결하고 있습니다.',
      queuePosition: '대기 순서: {n}번째입니다.', waitSoon: '예상 대기 시간: 1분 미만.',
      waitMinutes: '예상 대기 시간: 약 {n}분.', assigned: '{name}님이 대화에 참여했습니다.', anAgent: '상담원',
      ratePrompt: '상담은 어떠셨나요?', rateLabel: '5점 중 {n}점 주기',
      commentLabel: '더 하실 말씀이 있나요? (선택 사항)', rateSend: '평가 보내기',
      rateThanks: '의견을 보내 주셔서 감사합니다.', messageLog: '대화',
      errTooMany: '메시지가 너무 많습니다. 몇 초 후에 다시 시도해 주세요.',
      errTooManyWait: '메시지가 너무 많습니다. {n}초 후에 다시 시도해 주세요.',
      errTooManyChats: '사용 중인 네트워크에서 시작된 채팅이 너무 많습니다. 1분 후에 다시 시도해 주세요.',
      errTooManyChatsWait: '사용 중인 네트워크에서 시작된 채팅이 너무 많습니다. {n}초 후에 다시 시도해 주세요.',
      errBusy: '요청이 너무 많습니다. 몇 초 후에 다시 시도해 주세요.',
      errBusyWait: '요청이 너무 많습니다. {n}초 후에 다시 시도해 주세요.',
      errNetwork: '채팅 서비스에 연결할 수 없습니다. 연결 상태를 확인하고 다시 시도해 주세요.',
      errUnavailable: '지금은 이 페이지에서 채팅을 사용할 수 없습니다.',
      errTooLong: '메시지가 너무 깁니다. 10,000자 이하로 줄여 주세요.',
      errInvalid: '메시지를 보내지 못했습니다. 내용을 확인하고 다시 시도해 주세요.',
      errNoText: '메시지에 보이는 글자가 없습니다. 내용을 입력하고 다시 시도해 주세요.',
      errServer: '저희 쪽에 문제가 발생했습니다. 잠시 후 다시 시도해 주세요.',
      errLiveBusy: '실시간 채팅이 혼잡하여 새 답변이 표시되기까지 몇 초 걸릴 수 있습니다.',
      errLive: '실시간 연결이 끊어져 새 답변이 표시되기까지 몇 초 걸릴 수 있습니다.',
      errRating: '평가를 저장하지 못했습니다. 다시 시도해 주세요.', dismiss: '닫기'
    },
    // Arabic is written right to left, so RTL_LOCALES lists it.
    ar: {
      openChat: 'فتح المحادثة', closeChat: 'إغلاق المحادثة',
      unread: {
        zero: 'لا توجد رسائل غير مقروءة', one: 'رسالة واحدة غير مقروءة', two: 'رسالتان غير مقروءتين',
        few: '{n} رسائل غير مقروءة', many: '{n} رسالة غير مقروءة', other: '{n} رسالة غير مقروءة'
      },
      title: 'تحدث معنا', subtitle: 'نرد عادةً على الفور',
      greeting: 'مرحبًا! اسألنا عن أي شيء. يجيب مساعدنا على الفور، ويمكن لأحد موظفينا أن يتولى المحادثة.',
      greetingNamed: 'مرحبًا {name}! اسألنا عن أي شيء. يجيب مساعدنا على الفور، ويمكن لأحد موظفينا أن يتولى المحادثة.',
      placeholder: 'اكتب رسالة…', messageLabel: 'الرسالة', send: 'إرسال',
      you: 'أنت', assistant: 'المساعد', agent: 'موظف الدعم', system: 'Campfire', sources: 'المصادر',
      notSent: 'لم تُرسَل.', retry: 'إعادة المحاولة', typingAgent: '{name} يكتب…',
      typingAssistant: 'المساعد يكتب…', queued: 'جارٍ توصيلك بأحد الموظفين.',
      queuePosition: 'ترتيبك في قائمة الانتظار: {n}.', waitSoon: 'الانتظار المتوقع: أقل من دقيقة.',
      waitMinutes: {
        zero: 'الانتظار المتوقع: نحو {n} دقيقة.', one: 'الانتظار المتوقع: نحو دقيقة واحدة.',
        two: 'الانتظار المتوقع: نحو دقيقتين.', few: 'الانتظار المتوقع: نحو {n} دقائق.',
        many: 'الانتظار المتوقع: نحو {n} دقيقة.', other: 'الانتظار المتوقع: نحو {n} دقيقة.'
      },
      assigned: 'انضم {name} إلى المحادثة.', anAgent: 'أحد الموظفين',
      ratePrompt: 'ما رأيك في خدمتنا؟', rateLabel: 'التقييم {n} من 5',
      commentLabel: 'هل تود إضافة شيء؟ (اختياري)', rateSend: 'إرسال التقييم',
      rateThanks: 'شكرًا على ملاحظاتك.', messageLog: 'المحادثة',
      errTooMany: 'رسائل كثيرة جدًا — يُرجى الانتظار بضع ثوانٍ ثم المحاولة مرة أخرى.',
      errTooManyWait: {
        zero: 'رسائل كثيرة جدًا — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.',
        one: 'رسائل كثيرة جدًا — يُرجى الانتظار ثانية واحدة ثم المحاولة مرة أخرى.',
        two: 'رسائل كثيرة جدًا — يُرجى الانتظار ثانيتين ثم المحاولة مرة أخرى.',
        few: 'رسائل كثيرة جدًا — يُرجى الانتظار {n} ثوانٍ ثم المحاولة مرة أخرى.',
        many: 'رسائل كثيرة جدًا — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.',
        other: 'رسائل كثيرة جدًا — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.'
      },
      errTooManyChats: 'بدأت محادثات كثيرة جدًا من شبكتك — يُرجى الانتظار دقيقة ثم المحاولة مرة أخرى.',
      errTooManyChatsWait: {
        zero: 'بدأت محادثات كثيرة جدًا من شبكتك — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.',
        one: 'بدأت محادثات كثيرة جدًا من شبكتك — يُرجى الانتظار ثانية واحدة ثم المحاولة مرة أخرى.',
        two: 'بدأت محادثات كثيرة جدًا من شبكتك — يُرجى الانتظار ثانيتين ثم المحاولة مرة أخرى.',
        few: 'بدأت محادثات كثيرة جدًا من شبكتك — يُرجى الانتظار {n} ثوانٍ ثم المحاولة مرة أخرى.',
        many: 'بدأت محادثات كثيرة جدًا من شبكتك — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.',
        other: 'بدأت محادثات كثيرة جدًا من شبكتك — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.'
      },
      errBusy: 'طلبات كثيرة جدًا — يُرجى الانتظار بضع ثوانٍ ثم المحاولة مرة أخرى.',
      errBusyWait: {
        zero: 'طلبات كثيرة جدًا — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.',
        one: 'طلبات كثيرة جدًا — يُرجى الانتظار ثانية واحدة ثم المحاولة مرة أخرى.',
        two: 'طلبات كثيرة جدًا — يُرجى الانتظار ثانيتين ثم المحاولة مرة أخرى.',
        few: 'طلبات كثيرة جدًا — يُرجى الانتظار {n} ثوانٍ ثم المحاولة مرة أخرى.',
        many: 'طلبات كثيرة جدًا — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.',
        other: 'طلبات كثيرة جدًا — يُرجى الانتظار {n} ثانية ثم المحاولة مرة أخرى.'
      },
      errNetwork: 'تعذّر الوصول إلى خدمة المحادثة. تحقق من اتصالك وحاول مرة أخرى.',
      errUnavailable: 'المحادثة غير متاحة على هذه الصفحة حاليًا.',
      errTooLong: 'هذه الرسالة طويلة جدًا. يُرجى اختصارها إلى 10,000 حرف أو أقل.',
      errInvalid: 'تعذّر إرسال هذه الرسالة. يُرجى مراجعتها والمحاولة مرة أخرى.',
      errNoText: 'لا تحتوي هذه الرسالة على نص ظاهر. يُرجى كتابة شيء والمحاولة مرة أخرى.',
      errServer: 'حدث خطأ من جهتنا. يُرجى المحاولة مرة أخرى بعد قليل.',
      errLiveBusy: 'المحادثة المباشرة مشغولة الآن، لذا قد يستغرق ظهور الردود الجديدة بضع ثوانٍ.',
      errLive: 'انقطع الاتصال المباشر، لذا قد يستغرق ظهور الردود الجديدة بضع ثوانٍ.',
      errRating: 'تعذّر حفظ تقييمك. يُرجى المحاولة مرة أخرى.', dismiss: 'إغلاق'
    },
    tr: {
      openChat: 'Sohbeti aç', closeChat: 'Sohbeti kapat', unread: '{n} okunmamış mesaj',
      title: 'Bize yazın', subtitle: 'Genellikle hemen yanıt veririz',
      greeting: 'Merhaba! Bize her şeyi sorabilirsiniz. Asistanımız hemen yanıt verir ve gerekirse bir temsilci görüşmeyi devralabilir.',
      greetingNamed: 'Merhaba {name}! Bize her şeyi sorabilirsiniz. Asistanımız hemen yanıt verir ve gerekirse bir temsilci görüşmeyi devralabilir.',
      placeholder: 'Bir mesaj yazın…', messageLabel: 'Mesaj', send: 'Gönder',
      you: 'Siz', assistant: 'Asistan', agent: 'Destek temsilcisi', system: 'Campfire', sources: 'Kaynaklar',
      notSent: 'Gönderilmedi.', retry: 'Yeniden dene', typingAgent: '{name} yazıyor…',
      typingAssistant: 'Asistan yazıyor…', queued: 'Sizi bir temsilciye bağlıyoruz.',
      queuePosition: 'Sıradaki yeriniz: {n}.', waitSoon: 'Tahmini bekleme: bir dakikadan az.',
      waitMinutes: 'Tahmini bekleme: yaklaşık {n} dakika.', assigned: '{name} görüşmeye katıldı.',
      anAgent: 'Bir temsilci', ratePrompt: 'Size nasıl yardımcı olduk?', rateLabel: '5 üzerinden {n} puan ver',
      commentLabel: 'Eklemek istediğiniz bir şey var mı? (isteğe bağlı)', rateSend: 'Puanı gönder',
      rateThanks: 'Geri bildiriminiz için teşekkürler.', messageLog: 'Görüşme',
      errTooMany: 'Çok fazla mesaj — lütfen birkaç saniye bekleyip tekrar deneyin.',
      errTooManyWait: 'Çok fazla mesaj — lütfen {n} saniye bekleyip tekrar deneyin.',
      errTooManyChats: 'Ağınızdan çok fazla sohbet başlatıldı — lütfen bir dakika bekleyip tekrar deneyin.',
      errTooManyChatsWait: 'Ağınızdan çok fazla sohbet başlatıldı — lütfen {n} saniye bekleyip tekrar deneyin.',
      errBusy: 'Çok fazla istek — lütfen birkaç saniye bekleyip tekrar deneyin.',
      errBusyWait: 'Çok fazla istek — lütfen {n} saniye bekleyip tekrar deneyin.',
      errNetwork: 'Sohbet hizmetine ulaşılamıyor. Bağlantınızı kontrol edip tekrar deneyin.',
      errUnavailable: 'Sohbet şu anda bu sayfada kullanılamıyor.',
      errTooLong: 'Bu mesaj çok uzun: en fazla 10.000 karakter olabilir.',
      errInvalid: 'Bu mesaj gönderilemedi. Lütfen kontrol edip tekrar deneyin.',
      errNoText: 'Bu mesajda görünür bir metin yok. Lütfen bir şey yazıp tekrar deneyin.',
      errServer: 'Bizim tarafımızda bir sorun oluştu. Lütfen biraz sonra tekrar deneyin.',
      errLiveBusy: 'Canlı sohbet şu anda yoğun, bu yüzden yeni yanıtların görünmesi birkaç saniye sürebilir.',
      errLive: 'Canlı bağlantı kesildi, bu yüzden yeni yanıtların görünmesi birkaç saniye sürebilir.',
      errRating: 'Puanınız kaydedilemedi. Lütfen tekrar deneyin.', dismiss: 'Kapat'
    }
  };

  // Locales whose text runs right to left.
  var RTL_LOCALES = { ar: true };

  // Chinese tags written in traditional characters: the Hant script, or
  // Taiwan, Hong Kong or Macau without the Hans script.
  var TRADITIONAL_CHINESE = /^zh-(?:hant(?:-|$)|(?:tw|hk|mo)(?:-|$))/;

  // Return the STRINGS locale for the first of CampfireConfig.locale and the
  // browser's preferred languages that has one, matched by the whole tag and
  // then by its language subtag, else 'en'. A traditional Chinese tag
  // (zh-Hant, zh-TW, zh-HK, zh-MO) gets 'zh-hant'.
  function negotiateLocale(requested) {
    var candidates = [];
    if (requested) candidates.push(requested);
    if (navigator.languages) candidates = candidates.concat(Array.prototype.slice.call(navigator.languages));
    if (navigator.language) candidates.push(navigator.language);
    for (var i = 0; i < candidates.length; i++) {
      var tag = String(candidates[i]).toLowerCase().replace(/_/g, '-');
      if (TRADITIONAL_CHINESE.test(tag) && tag.indexOf('-hans') < 0) return 'zh-hant';
      if (Object.prototype.hasOwnProperty.call(STRINGS, tag)) return tag;
      var language = tag.split('-')[0];
      if (Object.prototype.hasOwnProperty.call(STRINGS, language)) return language;
    }
    return 'en';
  }

  // Return a function that gives the CLDR plural category (zero, one, two,
  // few, many or other) of a number in ``locale``.
  function pluralRules(locale) {
    if (window.Intl && typeof Intl.PluralRules === 'function') {
      var rules = new Intl.PluralRules(locale);
      return function (n) { return rules.select(n); };
    }
    // Without Intl.PluralRules, the English rule is the best guess.
    return function (n) { return n === 1 ? 'one' : 'other'; };
  }

  // Return t(key, values), which looks ``key`` up in ``locale`` and then in
  // English, and fills each {name} with values[name]. A string with a count
  // is an object of plural forms, picked by the category of values.n. A
  // category that the object leaves out uses its 'other' form.
  function pickStrings(locale) {
    var plurals = { en: pluralRules('en') };
    plurals[locale] = pluralRules(locale);
    return function (key, values) {
      var source = Object.prototype.hasOwnProperty.call(STRINGS[locale], key) ? locale : 'en';
      var text = STRINGS[source][key];
      if (text == null) return key;
      if (typeof text === 'object') {
        var count = values && typeof values.n === 'number' ? values.n : NaN;
        text = text[plurals[source](count)] || text.other;
      }
      if (values) {
        text = text.replace(/\{(\w+)\}/g, function (whole, name) {
          return name in values ? String(values[name]) : whole;
        });
      }
      return text;
    };
  }

  // Styles ----------------------------------------------------------------

  var STYLESHEET = [
    ':host{all:initial !important;display:block !important;position:static !important;',
    'width:0 !important;height:0 !important;overflow:visible !important}',
    '*,*::before,*::after{box-sizing:border-box}',
    '[hidden]{display:none !important}',
    '.cf{--cf-primary:#3b82f6;--cf-text:#111827;--cf-muted:#6b7280;--cf-line:#e5e7eb;',
    'font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;',
    'font-size:14px;line-height:1.45;color:var(--cf-text);font-weight:400;font-style:normal;',
    'letter-spacing:normal;text-transform:none;text-align:left;direction:ltr;visibility:visible}',
    '.cf[dir="rtl"]{direction:rtl;text-align:right}',
    'button,textarea,input{font:inherit;color:inherit;margin:0}',
    'button{cursor:pointer;border:0;background:none;padding:0}',
    ':focus-visible{outline:3px solid var(--cf-primary);outline-offset:2px}',
    '.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;',
    'border-radius:50%;background:var(--cf-primary);color:#fff;display:flex;align-items:center;',
    'justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25);transition:transform .15s}',
    '.launcher:hover{transform:scale(1.06)}',
    '.left .launcher{right:auto;left:20px}',
    '.bubble{position:relative;display:block;width:24px;height:18px;border-radius:9px;background:#fff}',
    '.bubble::after{content:"";position:absolute;left:5px;bottom:-5px;border-style:solid;',
    'border-width:6px 6px 0 0;border-color:#fff transparent transparent transparent}',
    '.is-open .bubble{width:20px;height:20px;border-radius:0;background:none}',
    '.is-open .bubble::before,.is-open .bubble::after{content:"";position:absolute;left:9px;top:0;',
    'bottom:auto;width:3px;height:20px;background:#fff;border:0;border-radius:2px;transform:rotate(45deg)}',
    '.is-open .bubble::after{transform:rotate(-45deg)}',
    '.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;',
    'border-radius:10px;background:#dc2626;color:#fff;font-size:12px;font-weight:600;',
    'line-height:20px;text-align:center}',
    '.panel{position:fixed;bottom:88px;right:20px;z-index:2147483000;width:370px;',
    'max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 108px);background:#fff;',
    'border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.22);display:flex;flex-direction:column;',
    'overflow:hidden}',
    '.left .panel{right:auto;left:20px}',
    '.head{background:var(--cf-primary);color:#fff;padding:14px 16px;display:flex;align-items:flex-start;gap:8px}',
    '.head-text{flex:1;min-width:0}',
    '.title{margin:0;font-size:16px;font-weight:600;line-height:1.3}',
    '.subtitle{margin:2px 0 0;font-size:13px;opacity:.9}',
    '.close{width:32px;height:32px;border-radius:8px;color:#fff;font-size:22px;line-height:32px;',
    'text-align:center;flex:none}',
    '.close:hover{background:rgba(255,255,255,.18)}',
    '.status{padding:8px 16px;background:#f3f4f6;border-bottom:1px solid var(--cf-line);font-size:13px}',
    '.log{flex:1;overflow-y:auto;padding:14px 14px 6px;display:flex;flex-direction:column;gap:10px;',
    'overscroll-behavior:contain}',
    '.msg{max-width:85%;display:flex;flex-direction:column;gap:2px}',
    '.msg .who{font-size:12px;color:var(--cf-muted);margin:0 4px}',
    '.msg .body{padding:8px 12px;border-radius:12px;background:#f3f4f6;white-space:pre-wrap;',
    'overflow-wrap:anywhere;word-break:break-word}',
    '.msg.customer{align-self:flex-end;align-items:flex-end}',
    '.msg.customer .body{background:var(--cf-primary);color:#fff}',
    '.msg.system{align-self:center;max-width:95%;text-align:center}',
    '.msg.system .body{background:none;color:var(--cf-muted);font-size:13px;padding:2px 8px}',
    '.msg.pending .body{opacity:.65}',
    '.msg .failed{font-size:12px;color:#b91c1c;display:flex;gap:6px;align-items:center}',
    '.msg .failed button{text-decoration:underline;color:#b91c1c;font-weight:600}',
    '.sources{margin:4px 4px 0;padding:0;list-style:none;font-size:12px;color:var(--cf-muted)}',
    '.sources li{margin:2px 0;overflow-wrap:anywhere}',
    '.sources a{color:var(--cf-primary);text-decoration:underline}',
    '.typing{padding:0 16px 6px;font-size:12px;color:var(--cf-muted);min-height:0}',
    '.error{margin:0 12px 8px;padding:8px 10px;border-radius:8px;background:#fef2f2;',
    'color:#991b1b;border:1px solid #fecaca;font-size:13px;display:flex;gap:8px;align-items:flex-start}',
    '.error span{flex:1}',
    '.error button{font-size:16px;line-height:1;color:#991b1b;padding:0 2px}',
    '.rating{margin:0 12px 10px;padding:10px;border:1px solid var(--cf-line);border-radius:10px;text-align:center}',
    '.rating p{margin:0 0 6px;font-weight:600}',
    '.stars{display:flex;justify-content:center;gap:4px;margin-bottom:6px}',
    '.stars button{width:36px;height:36px;border-radius:8px;font-size:22px;color:#9ca3af;line-height:36px}',
    '.stars button[aria-pressed="true"]{color:#f59e0b}',
    '.rating textarea{width:100%;min-height:48px;padding:6px 8px;border:1px solid var(--cf-line);',
    'border-radius:8px;resize:vertical;background:#fff}',
    '.rating .rate-send{margin-top:6px;padding:6px 14px;border-radius:8px;background:var(--cf-primary);color:#fff}',
    '.compose{display:flex;gap:8px;padding:10px 12px;border-top:1px solid var(--cf-line);align-items:flex-end}',
    '.compose textarea{flex:1;min-height:40px;max-height:120px;padding:9px 10px;border:1px solid #d1d5db;',
    'border-radius:10px;resize:none;background:#fff;line-height:1.4}',
    '.compose textarea:focus{outline:2px solid var(--cf-primary);outline-offset:0;border-color:transparent}',
    '.send{height:40px;padding:0 14px;border-radius:10px;background:var(--cf-primary);color:#fff;font-weight:600}',
    '.send:disabled{opacity:.5;cursor:default}',
    '@media (max-width:480px){.panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;',
    'border-radius:0}.is-open .launcher{display:none}}'
  ].join('');

  function applyStyles(shadow, nonce) {
    var constructable = typeof CSSStyleSheet === 'function' &&
      'adoptedStyleSheets' in ShadowRoot.prototype &&
      typeof CSSStyleSheet.prototype.replaceSync === 'function';
    if (constructable) {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLESHEET);
        shadow.adoptedStyleSheets = [sheet];
        return;
      } catch (error) {
        // Fall through to a <style> element.
      }
    }
    // A strict style-src blocks this element unless it carries the page's nonce.
    var style = document.createElement('style');
    if (nonce) style.setAttribute('nonce', nonce);
    style.textContent = STYLESHEET;
    shadow.appendChild(style);
  }

  // Small helpers ---------------------------------------------------------

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join('');
  }

  // Turn CR LF and CR into LF, remove the other control characters except tab,
  // which draw nothing, and replace unpaired surrogates with U+FFFD. The API
  // rejects NUL and unpaired surrogates.
  function cleanText(text) {
    return String(text == null ? '' : text)
      .replace(/\r\n?/g, '\n')
      .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '')
      .replace(/[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]/g, function (unit) {
        return unit.length > 1 ? unit : '\ufffd';
      });
  }

  function codePointLength(text) {
    var count = 0;
    for (var i = 0; i < text.length; i++) {
      var unit = text.charCodeAt(i);
      if (unit < 0xd800 || unit > 0xdbff) count++;
    }
    return count;
  }

  // Only http(s) URLs become links. A relative URL, such as the /kb/{id}
  // page of an article without a url, resolves against the Campfire server
  // (the origin of ``base``), not the host page. The parsed URL is what goes
  // into href, so whitespace or control characters cannot smuggle another
  // scheme past the check.
  function safeLinkUrl(raw, base) {
    if (typeof raw !== 'string' || !raw.trim()) return null;
    var url;
    try {
      url = new URL(raw, new URL(base, document.baseURI).origin + '/');
    } catch (error) {
      return null;
    }
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  }

  // The answer engine files sources under metadata.ai; messages posted
  // through the API may carry them at metadata.sources.
  function answerSources(message) {
    var metadata = message.metadata || {};
    var sources = metadata.sources || (metadata.ai && metadata.ai.sources);
    return Array.isArray(sources) ? sources : [];
  }

  // A message that marks a handoff: a routing notice (metadata.handoffId), or
  // an AI answer that hands the conversation to a person.
  function marksHandoff(message) {
    var metadata = message.metadata || {};
    return Boolean(metadata.handoffId || (metadata.ai && metadata.ai.shouldHandoff));
  }

  function scriptOrigin() {
    var source = SCRIPT && SCRIPT.src;
    if (!source) {
      var scripts = document.getElementsByTagName('script');
      for (var i = scripts.length - 1; i >= 0; i--) {
        if (/\/widget\.js(\?|#|$)/.test(scripts[i].src)) {
          source = scripts[i].src;
          break;
        }
      }
    }
    try {
      return new URL(source || location.href).origin;
    } catch (error) {
      return location.origin;
    }
  }

  function parseExpiry(value) {
    if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
    var parsed = Date.parse(value);
    return isNaN(parsed) ? Date.now() + 10 * 60 * 1000 : parsed;
  }

  function pageReferrer() {
    if (!/^https?:$/.test(location.protocol)) return null;
    return (location.origin + location.pathname + location.search).slice(0, 2000);
  }

  function storageGet(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null; // Storage disabled or the value is not ours.
    }
  }

  function storageSet(key, value) {
    try {
      if (value == null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // Private mode or a full quota: the conversation just won't resume.
    }
  }

  // Errors ----------------------------------------------------------------

  function WidgetError(kind, message, fields) {
    this.name = 'CampfireError';
    this.kind = kind;
    this.message = message;
    fields = fields || {};
    this.status = fields.status || 0;
    this.code = fields.code || kind;
    this.retryAfter = fields.retryAfter || null;
    this.requestId = fields.requestId || null;
    this.details = fields.details || null;
    // The step that failed when it is not the caller's own request: 'session'
    // or 'conversation' for a message whose session or conversation failed.
    this.source = null;
  }
  WidgetError.prototype = Object.create(Error.prototype);
  WidgetError.prototype.constructor = WidgetError;

  function errorFromResponse(response, body) {
    var info = (body && body.error) || {};
    var details = info.details || {};
    var retry = parseInt(response.headers.get('Retry-After') || details.retryAfter || '', 10);
    return new WidgetError('http', info.message || ('HTTP ' + response.status), {
      status: response.status,
      code: info.code || 'HTTP_' + response.status,
      retryAfter: isNaN(retry) ? null : retry,
      requestId: info.requestId || response.headers.get('X-Request-ID'),
      details: info.details || null
    });
  }

  // Widget ----------------------------------------------------------------

  function Widget(config) {
    this.config = config;
    this.locale = negotiateLocale(config.locale);
    this.t = pickStrings(this.locale);
    this.apiBase = String(config.apiBase || scriptOrigin() + '/api/v2').replace(/\/+$/, '');
    this.listeners = {};
    this.token = null;
    this.tokenExpiresAt = 0;
    this.sessionPromise = null;
    this.customerId = config.customerId ? String(config.customerId) : null;
    this.conversation = null;
    this.conversationPromise = null;
    this.rendered = {};
    this.pending = {};
    this.lastSequence = null;
    // {awaitingReply, replayLeft, hasMore, nextSince} while the socket's events come from
    // a replay that the widget requested or continues.
    this.resync = null;
    this.isOpen = false;
    this.unread = 0;
    this.socket = null;
    this.socketFailures = 0;
    // Whether the socket limit was reported since the last subscribed socket, so
    // the retries of one episode report (and log) it once.
    this.socketLimitEpisode = false;
    this.socketTimer = null;
    this.pollTimer = null;
    this.typingTimers = {};
    this.typingSentAt = 0;
    this.typingIdleTimer = null;
    this.agentNames = {};
    this.handoff = null;
    // Whether the conversation has had a handoff, so GET .../handoff finds one.
    this.handoffSeen = false;
    // Counts handoff states applied, so a slower GET cannot undo a newer frame.
    this.handoffChanges = 0;
    // The handoff events emitted, by handoff id, and the id of the latest handoff.
    this.handoffEvents = {};
    this.handoffKey = null;
    // Whether the handoff state that the page found on load has been read.
    // Later reads announce what changed since, because this page missed it.
    this.handoffBaseline = false;
    // Agents who wrote in the conversation, by id.
    this.agentsWritten = {};
    this.stopped = false;
    this.historyLoaded = false;
    this.rateSelected = 0;
  }

  Widget.prototype.storageKey = function () {
    return 'campfire:v1:' + this.config.mailboxId + ':' + (this.config.customerId || 'visitor');
  };

  Widget.prototype.remembered = function () {
    return storageGet(this.storageKey()) || {};
  };

  Widget.prototype.remember = function (changes) {
    var value = this.remembered();
    for (var name in changes) value[name] = changes[name];
    storageSet(this.storageKey(), value);
  };

  // Events

  Widget.prototype.emit = function (name, data) {
    var callbacks = (this.listeners[name] || []).slice();
    for (var i = 0; i < callbacks.length; i++) {
      try {
        callbacks[i](data);
      } catch (error) {
        // A failing host callback must not stop the widget or other callbacks.
        if (window.console) console.error('Campfire: a "' + name + '" listener threw', error);
      }
    }
  };

  Widget.prototype.reportError = function (error, context) {
    var text = this.describeError(error, context);
    // This banner replaces any realtime one, so a later subscribed socket keeps it.
    this.realtimeErrorShown = false;
    this.showError(text, error.retryAfter);
    if (window.console) {
      console.warn('Campfire: ' + context + ' failed: ' + error.message +
        (error.requestId ? ' (request ' + error.requestId + ')' : ''));
    }
    this.emit('error', {
      context: context,
      code: error.code || 'UNKNOWN',
      status: error.status || 0,
      message: text,
      detail: error.message,
      retryAfter: error.retryAfter || null,
      limit: (error.status === 429 && error.details && error.details.name) || null,
      requestId: error.requestId || null
    });
  };

  // The names in details.name of a 429, one per server rate limit, and the
  // strings that describe each to the visitor. Any other limit, such as
  // requestsPerMinute, reads as too many requests.
  var LIMIT_STRINGS = {
    messagesPerMinute: ['errTooMany', 'errTooManyWait'],
    widgetSessionsPerMinute: ['errTooManyChats', 'errTooManyChatsWait'],
    websocketConnections: ['errLiveBusy', 'errLiveBusy']
  };

  // Return the visitor's text for an error of ``context`` (session, message,
  // rating, history, resume or realtime).
  Widget.prototype.describeError = function (error, context) {
    var t = this.t;
    if (error.kind === 'network') return t('errNetwork');
    if (error.kind === 'too-long') return t('errTooLong');
    if (error.status === 429) {
      var limit = error.details && error.details.name;
      var keys = LIMIT_STRINGS[limit] || ['errBusy', 'errBusyWait'];
      return error.retryAfter ? t(keys[1], { n: error.retryAfter }) : t(keys[0]);
    }
    var step = error.source || context;
    if (step === 'rating') return t('errRating');
    if (error.kind === 'realtime') return t('errLive');
    if (error.status === 401 || error.status === 403 || error.status === 404) {
      return t('errUnavailable');
    }
    if (error.status === 400 || error.status === 413 || error.status === 409) {
      // Only a rejected message is the visitor's to fix. A rejected session,
      // conversation or read comes from the page's widget settings.
      return step === 'message' ? t(messageProblem(error)) : t('errUnavailable');
    }
    return t('errServer');
  };

  // Return the string key for the API's rejection of a message's text. After
  // cleanText(), only the visible-text and length rules can fail.
  function messageProblem(error) {
    var details = error.details || {};
    if (error.status === 413) return 'errTooLong';
    if (error.status !== 400 || details.field !== 'content') return 'errInvalid';
    if (/^at most /.test(details.expected)) return 'errTooLong';
    if (/visible/.test(details.expected)) return 'errNoText';
    return 'errInvalid';
  }

  // DOM

  Widget.prototype.render = function () {
    var t = this.t;
    var theme = this.config.theme || {};
    var host = document.createElement('campfire-widget');
    var shadow = host.attachShadow({ mode: 'open' });
    applyStyles(shadow, this.config.nonce);

    var root = make('div', 'cf' + (theme.position === 'bottom-left' ? ' left' : ''));
    root.lang = this.locale;
    root.dir = RTL_LOCALES[this.locale] ? 'rtl' : 'ltr';
    if (theme.primaryColor && window.CSS && window.CSS.supports('color', theme.primaryColor)) {
      // CSSOM writes are allowed under a strict style-src, unlike style attributes.
      root.style.setProperty('--cf-primary', theme.primaryColor);
    }
    var panelId = 'cf-panel';

    var launcher = make('button', 'launcher');
    launcher.type = 'button';
    launcher.setAttribute('aria-controls', panelId);
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', t('openChat'));
    launcher.appendChild(make('span', 'bubble')).setAttribute('aria-hidden', 'true');
    var badge = launcher.appendChild(make('span', 'badge'));
    badge.setAttribute('aria-hidden', 'true');
    badge.hidden = true;

    var panel = make('div', 'panel');
    panel.id = panelId;
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-modal', 'false');
    panel.setAttribute('aria-labelledby', 'cf-title');

    var head = panel.appendChild(make('div', 'head'));
    var headText = head.appendChild(make('div', 'head-text'));
    var title = headText.appendChild(make('h2', 'title', this.config.title || t('title')));
    title.id = 'cf-title';
    headText.appendChild(make('p', 'subtitle', t('subtitle')));
    var close = head.appendChild(make('button', 'close', '\u00d7'));
    close.type = 'button';
    close.setAttribute('aria-label', t('closeChat'));

    var status = panel.appendChild(make('div', 'status'));
    status.setAttribute('role', 'status');
    status.hidden = true;

    var log = panel.appendChild(make('div', 'log'));
    log.setAttribute('role', 'log');
    log.setAttribute('aria-live', 'polite');
    log.setAttribute('aria-label', t('messageLog'));
    log.tabIndex = 0;
    var name = this.config.customerName;
    var greeting = name ? t('greetingNamed', { name: name }) : t('greeting');
    log.appendChild(this.messageNode({ authorType: 'ai', content: greeting }, 'greeting'));

    var typing = panel.appendChild(make('div', 'typing'));
    typing.setAttribute('aria-live', 'polite');

    var error = panel.appendChild(make('div', 'error'));
    error.setAttribute('role', 'alert');
    error.hidden = true;
    var errorText = error.appendChild(make('span'));
    var errorClose = error.appendChild(make('button', null, '\u00d7'));
    errorClose.type = 'button';
    errorClose.setAttribute('aria-label', t('dismiss'));

    var rating = panel.appendChild(this.ratingNode());
    rating.hidden = true;

    var form = panel.appendChild(make('form', 'compose'));
    form.noValidate = true;
    var input = form.appendChild(make('textarea'));
    input.rows = 1;
    input.dir = 'auto';
    input.placeholder = t('placeholder');
    input.setAttribute('aria-label', t('messageLabel'));
    input.maxLength = MAX_CONTENT * 2;
    var send = form.appendChild(make('button', 'send', t('send')));
    send.type = 'submit';

    root.appendChild(panel);
    root.appendChild(launcher);
    shadow.appendChild(root);

    this.dom = {
      host: host, shadow: shadow, root: root, launcher: launcher, badge: badge, panel: panel,
      close: close, status: status, log: log, typing: typing, error: error,
      errorText: errorText, rating: rating, form: form, input: input, send: send
    };
    this.bindDom();
    (document.body || document.documentElement).appendChild(host);
  };

  Widget.prototype.bindDom = function () {
    var self = this;
    var dom = this.dom;
    dom.launcher.addEventListener('click', function () { self.toggle(); });
    dom.close.addEventListener('click', function () { self.close(); });
    dom.error.lastChild.addEventListener('click', function () { self.hideError(); });
    dom.panel.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') {
        event.stopPropagation();
        self.close();
      }
    });
    dom.form.addEventListener('submit', function (event) {
      event.preventDefault();
      self.submitComposer();
    });
    dom.input.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        self.submitComposer();
      }
    });
    dom.input.addEventListener('input', function () {
      self.autosize();
      self.noteTyping();
    });
  };

  Widget.prototype.autosize = function () {
    var input = this.dom.input;
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
  };

  Widget.prototype.showError = function (text, retryAfter) {
    var dom = this.dom;
    if (!dom) return;
    dom.errorText.textContent = text;
    dom.error.hidden = false;
    if (retryAfter) {
      var self = this;
      dom.send.disabled = true;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(function () {
        if (self.dom) self.dom.send.disabled = false;
      }, Math.min(retryAfter, 120) * 1000);
    }
  };

  Widget.prototype.hideError = function () {
    if (this.dom) this.dom.error.hidden = true;
  };

  Widget.prototype.authorName = function (message) {
    var t = this.t;
    switch (message.authorType) {
      case 'customer': return t('you');
      case 'ai': return this.config.assistantName || t('assistant');
      case 'system': return t('system');
      default:
        return message.authorName || (message.metadata && message.metadata.authorName) ||
          this.agentNames[message.authorId] || t('agent');
    }
  };

  Widget.prototype.messageNode = function (message, key) {
    var type = ['customer', 'agent', 'ai', 'system'].indexOf(message.authorType) >= 0
      ? message.authorType : 'agent';
    var node = make('div', 'msg ' + type);
    node.setAttribute('data-id', key || message.id || '');
    if (type !== 'system') {
      var who = node.appendChild(make('span', 'who', this.authorName(message)));
      if (type === 'agent' && message.authorId) who.setAttribute('data-agent', message.authorId);
    }
    // Each message takes its direction from its own text, so an English
    // reply reads left to right in an Arabic panel and the other way round.
    node.appendChild(make('div', 'body', message.content)).dir = 'auto';
    // Sources go only under answers: a handoff message acknowledges the
    // request for a person, so the articles the AI weighed are not its evidence.
    var sources = answerSources(message);
    if (type === 'ai' && sources.length && !marksHandoff(message)) {
      node.appendChild(this.sourcesNode(sources));
    }
    return node;
  };

  Widget.prototype.sourcesNode = function (sources) {
    var list = make('ul', 'sources');
    list.setAttribute('aria-label', this.t('sources'));
    list.appendChild(make('li', null, this.t('sources') + ':'));
    for (var i = 0; i < sources.length && i < 8; i++) {
      var source = sources[i] || {};
      var label = String(source.title || source.url || '').slice(0, 200);
      if (!label) continue;
      var item = list.appendChild(make('li'));
      var href = safeLinkUrl(source.url, this.apiBase);
      if (href) {
        var link = item.appendChild(make('a', null, label));
        link.href = href;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
      } else {
        item.textContent = label;
      }
    }
    return list;
  };

  Widget.prototype.ratingNode = function () {
    var self = this;
    var t = this.t;
    var box = make('div', 'rating');
    box.appendChild(make('p', null, t('ratePrompt')));
    var stars = box.appendChild(make('div', 'stars'));
    stars.setAttribute('role', 'group');
    stars.setAttribute('aria-label', t('ratePrompt'));
    for (var n = 1; n <= 5; n++) {
      var star = stars.appendChild(make('button', null, '\u2605'));
      star.type = 'button';
      star.setAttribute('aria-label', t('rateLabel', { n: n }));
      star.setAttribute('aria-pressed', 'false');
      star.setAttribute('data-rating', String(n));
      star.addEventListener('click', function (event) {
        self.selectRating(Number(event.currentTarget.getAttribute('data-rating')));
      });
    }
    var comment = box.appendChild(make('textarea'));
    comment.setAttribute('aria-label', t('commentLabel'));
    comment.placeholder = t('commentLabel');
    comment.maxLength = 2000;
    var submit = box.appendChild(make('button', 'rate-send', t('rateSend')));
    submit.type = 'button';
    submit.disabled = true;
    submit.addEventListener('click', function () { self.submitRating(); });
    box.appendChild(make('p', 'thanks', t('rateThanks'))).hidden = true;
    return box;
  };

  Widget.prototype.selectRating = function (rating) {
    this.rateSelected = rating;
    var stars = this.dom.rating.querySelectorAll('.stars button');
    for (var i = 0; i < stars.length; i++) {
      stars[i].setAttribute('aria-pressed', i < rating ? 'true' : 'false');
    }
    this.dom.rating.querySelector('.rate-send').disabled = false;
  };

  Widget.prototype.scrollToEnd = function () {
    var log = this.dom.log;
    log.scrollTop = log.scrollHeight;
  };

  Widget.prototype.updateBadge = function () {
    var dom = this.dom;
    dom.badge.hidden = this.unread === 0;
    dom.badge.textContent = this.unread > 9 ? '9+' : String(this.unread);
    var label = this.t(this.isOpen ? 'closeChat' : 'openChat');
    if (this.unread && !this.isOpen) label += ', ' + this.t('unread', { n: this.unread });
    dom.launcher.setAttribute('aria-label', label);
  };

  // Open and close

  Widget.prototype.open = function () {
    if (this.stopped || this.isOpen) return;
    this.isOpen = true;
    this.unread = 0;
    this.dom.panel.hidden = false;
    this.dom.root.classList.add('is-open');
    this.dom.launcher.setAttribute('aria-expanded', 'true');
    this.updateBadge();
    this.scrollToEnd();
    this.dom.input.focus();
    this.emit('widget:opened', { conversationId: this.conversationId() });
    var self = this;
    this.ensureSession().catch(function (error) { self.reportError(error, 'session'); });
  };

  Widget.prototype.close = function () {
    if (this.stopped || !this.isOpen) return;
    this.isOpen = false;
    this.dom.panel.hidden = true;
    this.dom.root.classList.remove('is-open');
    this.dom.launcher.setAttribute('aria-expanded', 'false');
    this.updateBadge();
    this.dom.launcher.focus();
    this.emit('widget:closed', { conversationId: this.conversationId() });
  };

  Widget.prototype.toggle = function () {
    if (this.isOpen) this.close();
    else this.open();
  };

  Widget.prototype.conversationId = function () {
    return this.conversation ? this.conversation.id : null;
  };

  // HTTP

  Widget.prototype.request = function (method, path, body, options) {
    options = options || {};
    var self = this;
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    var credential = options.credential;
    var tokenReady = credential ? Promise.resolve(credential) : this.ensureSession();

    return tokenReady.then(function (token) {
      headers.Authorization = 'Bearer ' + token;
      return fetch(self.apiBase + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        mode: 'cors'
      }).catch(function (error) {
        throw new WidgetError('network', error && error.message || 'network error');
      });
    }).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch (error) {
          parsed = null;
        }
        if (response.ok) return parsed;
        var failure = errorFromResponse(response, parsed);
        // An expired customer token: open a new session once and repeat the call.
        if (response.status === 401 && !credential && !options.retried) {
          self.token = null;
          options.retried = true;
          return self.request(method, path, body, options);
        }
        throw failure;
      });
    });
  };

  Widget.prototype.ensureSession = function () {
    var self = this;
    if (this.token && Date.now() < this.tokenExpiresAt - 60000) {
      return Promise.resolve(this.token);
    }
    if (this.sessionPromise) return this.sessionPromise;
    var config = this.config;
    var remembered = this.remembered();
    var body = { mailboxId: config.mailboxId };
    var customerId = config.customerId || remembered.customerId;
    if (customerId) body.customerId = String(customerId);
    if (config.customerHash) body.customerHash = String(config.customerHash);
    if (config.customerName) body.name = String(config.customerName);
    if (config.customerEmail) body.email = String(config.customerEmail);

    this.sessionPromise = this.request('POST', '/widget/session', body, {
      credential: config.apiKey
    }).catch(function (error) {
      // The visitor id remembered from an earlier visit may be gone: start afresh.
      if (error.status === 401 && !config.customerId && remembered.customerId) {
        storageSet(self.storageKey(), null);
        delete body.customerId;
        return self.request('POST', '/widget/session', body, { credential: config.apiKey });
      }
      throw error;
    }).then(function (session) {
      if (!session || !session.token) {
        throw new WidgetError('http', 'the session response has no token', { status: 500 });
      }
      self.token = session.token;
      self.tokenExpiresAt = parseExpiry(session.expiresAt);
      self.customerId = session.customerId || self.customerId;
      if (!config.customerId && self.customerId) self.remember({ customerId: self.customerId });
      self.sessionPromise = null;
      return self.token;
    }, function (error) {
      self.sessionPromise = null;
      error.source = error.source || 'session';
      throw error;
    });
    return this.sessionPromise;
  };

  // Conversation

  Widget.prototype.resume = function () {
    var self = this;
    var stored = this.remembered().conversationId;
    if (!stored) return Promise.resolve(null);
    return this.request('GET', '/conversations/' + encodeURIComponent(stored)).then(function (conv) {
      self.conversation = conv;
      self.applyConversation(conv);
      return self.loadHistory().then(function () {
        self.connect();
        return self.refreshHandoff();
      }).then(function () {
        self.handoffBaseline = true;
        self.showAssignee();
        return conv;
      });
    }, function (error) {
      if (error.status === 404 || error.status === 403) {
        self.remember({ conversationId: null });
        return null;
      }
      throw error;
    });
  };

  Widget.prototype.loadHistory = function () {
    var self = this;
    var id = this.conversationId();
    var pages = 0;

    function page(cursor) {
      var path = '/conversations/' + encodeURIComponent(id) + '/messages?limit=100' +
        (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return self.request('GET', path).then(function (result) {
        var items = (result && result.data) || [];
        for (var i = 0; i < items.length; i++) self.receive(items[i], self.historyLoaded);
        var next = result && result.pagination && result.pagination.nextCursor;
        pages++;
        if (next && result.pagination.hasMore && pages < HISTORY_PAGES) return page(next);
        return null;
      });
    }

    return page(null).then(function () {
      self.historyLoaded = true;
    });
  };

  Widget.prototype.ensureConversation = function () {
    var self = this;
    if (this.conversation) return Promise.resolve(this.conversation);
    if (this.conversationPromise) return this.conversationPromise;
    this.conversationPromise = this.ensureSession().then(function () {
      // The locale lets the AI pick the reply language of a message that
      // does not show its own, such as Japanese written in kanji alone.
      var metadata = { source: 'widget', locale: self.locale };
      var referrer = pageReferrer();
      if (referrer) metadata.referrer = referrer;
      if (navigator.userAgent) metadata.userAgent = navigator.userAgent.slice(0, 500);
      return self.request('POST', '/conversations', {
        customerId: self.customerId,
        mailboxId: self.config.mailboxId,
        metadata: metadata
      }, { idempotencyKey: randomId() });
    }).then(function (conv) {
      self.conversation = conv;
      self.historyLoaded = true;
      // A new conversation has no handoff, so every later one is announced.
      self.handoffBaseline = true;
      // Subscribe from the conversation's first event: the AI may answer and
      // hand off before the socket has subscribed, and those frames must
      // still reach the widget.
      self.lastSequence = 0;
      self.conversationPromise = null;
      self.remember({ conversationId: conv.id });
      self.emit('conversation:started', {
        conversationId: conv.id, customerId: conv.customerId, mailboxId: conv.mailboxId
      });
      self.connect();
      return conv;
    }, function (error) {
      self.conversationPromise = null;
      error.source = error.source || 'conversation';
      throw error;
    });
    return this.conversationPromise;
  };

  Widget.prototype.applyConversation = function (conv) {
    if (!conv) return;
    if (this.conversation && conv.id && conv.id !== this.conversation.id) return;
    this.conversation = this.conversation ? Object.assign(this.conversation, conv) : conv;
    var closed = conv.status === 'resolved' || conv.status === 'closed';
    var rated = (this.remembered().rated || []).indexOf(this.conversationId()) >= 0;
    this.dom.rating.hidden = !closed || rated;
    this.showAssignee();
  };

  // Show the conversation's assignee as joined once they have written in it.
  // An assignee alone may be offline: a queued handoff can wait for an agent
  // assigned by hand, so only an assigned handoff or the assignee's own
  // message shows "has joined". After a reload this waits for the first
  // handoff read (handoffBaseline).
  Widget.prototype.showAssignee = function () {
    var agentId = this.conversation && this.conversation.assignedAgentId;
    var handoff = this.handoff;
    if (!agentId || !this.agentsWritten[agentId] || !this.handoffBaseline) return;
    if (handoff && handoff.status === 'assigned') return;
    this.applyHandoff({ status: 'assigned', agentId: agentId }, false);
  };

  // Leave a closed conversation, which takes no more messages, so that the
  // next message starts a new one and a reload resumes that one.
  Widget.prototype.leaveConversation = function () {
    this.conversation = null;
    this.conversationPromise = null;
    this.remember({ conversationId: null });
    this.lastSequence = null;
    this.resync = null;
    this.handoff = null;
    this.handoffSeen = false;
    this.handoffChanges++;
    this.handoffKey = null;
    this.agentsWritten = {};
    this.showHandoff();
    var rating = this.ratingNode();
    rating.hidden = true;
    this.dom.rating.parentNode.replaceChild(rating, this.dom.rating);
    this.dom.rating = rating;
    this.rateSelected = 0;
    // The socket is subscribed to the closed conversation. The new one connects again.
    this.stopPolling();
    clearTimeout(this.socketTimer);
    if (this.socket) {
      var socket = this.socket;
      this.socket = null;
      socket.close(1000, 'conversation closed');
    }
  };

  // Messages

  Widget.prototype.submitComposer = function () {
    var text = cleanText(this.dom.input.value);
    if (!text.trim() || this.dom.send.disabled) return;
    this.dom.input.value = '';
    this.autosize();
    this.sendTyping(false);
    this.sendMessage(text).catch(function () {
      // Already shown in the message bubble and the error banner.
    });
  };

  Widget.prototype.sendMessage = function (text) {
    var self = this;
    if (this.stopped) return Promise.reject(new WidgetError('stopped', 'the widget was shut down'));
    var content = cleanText(text).trim();
    if (!content) return Promise.reject(new WidgetError('empty', 'the message is empty'));
    var clientId = randomId();
    var bubble = this.messageNode({ authorType: 'customer', content: content }, 'pending:' + clientId);
    bubble.classList.add('pending');
    this.dom.log.appendChild(bubble);
    this.scrollToEnd();
    this.pending[clientId] = { node: bubble, content: content, key: 'widget-' + clientId };
    return this.deliver(clientId);
  };

  // Post a pending message. ``afterClosed`` is set for the repeat in a new
  // conversation after the current one turned out to be closed.
  Widget.prototype.deliver = function (clientId, afterClosed) {
    var self = this;
    var entry = this.pending[clientId];
    var conversationId = null;
    var failed = entry.node.querySelector('.failed');
    if (failed) failed.parentNode.removeChild(failed);
    if (codePointLength(entry.content) > MAX_CONTENT) {
      var tooLong = new WidgetError('too-long', 'the message exceeds ' + MAX_CONTENT + ' characters');
      this.markFailed(clientId);
      this.reportError(tooLong, 'message');
      return Promise.reject(tooLong);
    }

    return this.ensureConversation().then(function (conv) {
      conversationId = conv.id;
      return self.request('POST', '/conversations/' + encodeURIComponent(conv.id) + '/messages', {
        content: entry.content,
        authorType: 'customer',
        metadata: { source: 'widget', clientMessageId: clientId }
      }, { idempotencyKey: entry.key });
    }).then(function (message) {
      self.hideError();
      self.settlePending(clientId, message);
      self.emit('message:sent', self.publicMessage(message));
      return self.publicMessage(message);
    }, function (error) {
      // A closed conversation is final (a resolved one reopens on a customer
      // message instead), so the message goes to a new conversation. It needs
      // a new key, because the server binds a key to its first request.
      if (error.code === 'CONVERSATION_CLOSED' && conversationId && !afterClosed) {
        if (self.conversationId() === conversationId) self.leaveConversation();
        entry.key = 'widget-' + randomId();
        return self.deliver(clientId, true);
      }
      self.markFailed(clientId);
      self.reportError(error, 'message');
      throw error;
    });
  };

  Widget.prototype.markFailed = function (clientId) {
    var self = this;
    var entry = this.pending[clientId];
    if (!entry) return;
    var line = entry.node.appendChild(make('div', 'failed'));
    line.appendChild(make('span', null, this.t('notSent')));
    var retry = line.appendChild(make('button', null, this.t('retry')));
    retry.type = 'button';
    retry.addEventListener('click', function () {
      self.deliver(clientId).catch(function () {});
    });
  };

  // Turn the optimistic bubble into the stored message, whichever of the
  // POST response and the realtime echo arrives first.
  Widget.prototype.settlePending = function (clientId, message) {
    var entry = this.pending[clientId];
    if (!entry) return;
    delete this.pending[clientId];
    if (this.rendered[message.id]) {
      if (entry.node.parentNode) entry.node.parentNode.removeChild(entry.node);
      return;
    }
    entry.node.classList.remove('pending');
    entry.node.setAttribute('data-id', message.id);
    this.rendered[message.id] = entry.node;
  };

  Widget.prototype.publicMessage = function (message) {
    return {
      id: message.id,
      conversationId: message.conversationId || this.conversationId(),
      content: message.content,
      authorType: message.authorType,
      authorId: message.authorId || null,
      createdAt: message.createdAt || message.timestamp || null,
      metadata: message.metadata || {}
    };
  };

  // Render a stored message once. ``live`` means it arrived after the history
  // was loaded, so it counts as received.
  Widget.prototype.receive = function (message, live) {
    if (!message || !message.id || message.private) return;
    if (message.conversationId && message.conversationId !== this.conversationId()) return;
    if (this.rendered[message.id]) return;
    var clientId = message.metadata && message.metadata.clientMessageId;
    if (message.authorType === 'customer' && clientId && this.pending[clientId]) {
      this.settlePending(clientId, message);
      return;
    }
    var node = this.messageNode(message);
    this.rendered[message.id] = node;
    this.dom.log.appendChild(node);
    if (message.authorType !== 'customer') this.clearTyping(message.authorId || message.authorType);
    if (message.authorType === 'agent' && message.authorId) {
      this.agentsWritten[message.authorId] = true;
      this.showAssignee();
    }
    if (marksHandoff(message)) {
      this.handoffSeen = true;
      // Routing posts a notice, such as "You are back with the AI assistant.",
      // when a handoff opens or ends. Read the handoff again in case its frame was missed.
      if (live && message.authorType === 'system') this.refreshHandoff(true);
    }
    this.scrollToEnd();
    if (live && message.authorType !== 'customer') {
      if (!this.isOpen) {
        this.unread++;
        this.updateBadge();
      }
      this.emit('message:received', this.publicMessage(message));
    }
  };

  // A customer token may not read agents (GET /agents/{id} returns 403), so
  // an agent's name comes only from the agentName of handoff frames.
  Widget.prototype.refreshAgentName = function (agentId) {
    var name = this.agentNames[agentId];
    if (!this.dom) return;
    var labels = this.dom.log.querySelectorAll('.who[data-agent]');
    for (var i = 0; i < labels.length; i++) {
      if (labels[i].getAttribute('data-agent') === agentId) labels[i].textContent = name;
    }
  };

  // Handoff, typing, rating

  Widget.prototype.applyHandoff = function (data, live) {
    if (!data) return;
    this.handoffSeen = true;
    this.handoffChanges++;
    var previous = this.handoff && this.handoff.status;
    this.handoff = {
      status: data.status,
      agentId: data.agentId || null,
      agentName: data.agentName || null,
      position: data.position,
      estimatedWaitTime: data.estimatedWaitTime,
      reason: data.reason || null
    };
    if (data.agentId && data.agentName) {
      this.agentNames[data.agentId] = String(data.agentName);
      this.refreshAgentName(data.agentId);
    }
    this.showHandoff();
    var event = {
      conversationId: this.conversationId(),
      status: data.status,
      agentId: data.agentId || null,
      position: data.position == null ? null : data.position,
      estimatedWaitTime: data.estimatedWaitTime == null ? null : data.estimatedWaitTime,
      reason: data.reason || null
    };
    this.emitHandoffEvents(data, event, live, previous);
  };

  // Emit handoff:requested and then handoff:assigned, each once per handoff.
  // A handoff that an agent takes at once arrives as one assigned frame, so
  // that frame emits both. Handoffs are distinguished by id (handoffId in
  // frames, id from GET). A state read without live set, such as after a
  // reload, records the events as emitted without emitting them. A handoff
  // that has ended when it is first read is not announced late.
  Widget.prototype.emitHandoffEvents = function (data, event, live, previous) {
    var open = data.status !== 'completed' && data.status !== 'cancelled';
    var id = data.handoffId || data.id || null;
    // An assignment read from the conversation has no handoff id. It records
    // nothing, so the handoff read next still announces the assignment.
    if (!id && !live) return;
    var emitted;
    if (id) {
      emitted = this.handoffEvents[id] || (this.handoffEvents[id] = {});
    } else {
      // No id, as for an assignment read from the conversation: this handoff
      // is the one shown before unless that one had ended.
      var ended = !previous || previous === 'completed' || previous === 'cancelled';
      emitted = ended ? {} : (this.handoffEvents[this.handoffKey] || {});
    }
    if (id) this.handoffKey = id;
    var requested = open && !emitted.requested;
    var assigned = data.status === 'assigned' && !emitted.assigned;
    if (open) emitted.requested = true;
    if (data.status === 'assigned' || !open) emitted.assigned = true;
    if (!live) return;
    if (requested) this.emit('handoff:requested', event);
    if (assigned) {
      var joined = Object.assign({}, event, { agentName: this.agentNames[data.agentId] || null });
      this.emit('handoff:assigned', joined);
    }
  };

  Widget.prototype.showHandoff = function () {
    var t = this.t;
    var status = this.dom.status;
    var handoff = this.handoff;
    if (!handoff || handoff.status === 'completed' || handoff.status === 'cancelled') {
      status.hidden = true;
      return;
    }
    var parts = [];
    if (handoff.status === 'assigned') {
      var name = this.agentNames[handoff.agentId] || handoff.agentName || t('anAgent');
      parts.push(t('assigned', { name: name }));
    } else {
      parts.push(t('queued'));
      if (typeof handoff.position === 'number' && handoff.position > 0) {
        parts.push(t('queuePosition', { n: handoff.position }));
      }
      if (typeof handoff.estimatedWaitTime === 'number' && handoff.estimatedWaitTime >= 0) {
        var minutes = Math.round(handoff.estimatedWaitTime / 60);
        parts.push(minutes < 1 ? t('waitSoon') : t('waitMinutes', { n: minutes }));
      }
    }
    status.textContent = parts.join(' ');
    status.hidden = false;
  };

  // Read the handoff's current state, for instance after a reload, and show it.
  // Events are emitted only with live set, for a state that may have changed
  // while this page was open, and each at most once per handoff. Only a
  // conversation with a handoff is read, because one without returns 404.
  // After a reconnect or a poll, live is handoffBaseline: what changed while
  // the socket was down is announced, the state found on load is not.
  Widget.prototype.refreshHandoff = function (live) {
    var self = this;
    var id = this.conversationId();
    if (!id || !this.handoffSeen) return Promise.resolve(null);
    var changes = this.handoffChanges;
    return this.request('GET', '/conversations/' + encodeURIComponent(id) + '/handoff')
      .then(function (handoff) {
        if (self.stopped || self.conversationId() !== id || self.handoffChanges !== changes) {
          return null;
        }
        self.applyHandoff(handoff, Boolean(live));
        return handoff;
      }, function (error) {
        if (window.console) console.warn('Campfire: reading the handoff failed: ' + error.message);
        return null;
      });
  };

  Widget.prototype.applyTyping = function (data) {
    if (!data || data.authorType === 'customer' || (data.authorId && data.authorId === this.customerId)) {
      return;
    }
    var key = data.authorId || data.authorType || 'agent';
    var self = this;
    clearTimeout(this.typingTimers[key]);
    if (!data.isTyping) {
      this.clearTyping(key);
      return;
    }
    var text = data.authorType === 'ai'
      ? this.t('typingAssistant')
      : this.t('typingAgent', { name: data.authorName || this.agentNames[data.authorId] || this.t('agent') });
    this.dom.typing.textContent = text;
    this.dom.typing.setAttribute('data-author', key);
    this.typingTimers[key] = setTimeout(function () { self.clearTyping(key); }, TYPING_SHOW_MS);
  };

  Widget.prototype.clearTyping = function (key) {
    var typing = this.dom.typing;
    if (!key || typing.getAttribute('data-author') === key) {
      typing.textContent = '';
      typing.removeAttribute('data-author');
    }
  };

  Widget.prototype.noteTyping = function () {
    var self = this;
    var now = Date.now();
    if (now - this.typingSentAt > TYPING_SEND_EVERY_MS) {
      this.typingSentAt = now;
      this.sendTyping(true);
    }
    clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(function () { self.sendTyping(false); }, TYPING_IDLE_MS);
  };

  Widget.prototype.sendTyping = function (isTyping) {
    if (!isTyping) {
      clearTimeout(this.typingIdleTimer);
      if (!this.typingSentAt) return;
      this.typingSentAt = 0;
    }
    var socket = this.socket;
    if (!socket || socket.readyState !== 1 || !this.conversation) return;
    socket.send(JSON.stringify({
      type: 'typing', channel: 'conversation:' + this.conversation.id, data: { isTyping: isTyping }
    }));
  };

  Widget.prototype.submitRating = function () {
    var self = this;
    var rating = this.rateSelected;
    var box = this.dom.rating;
    if (!rating || !this.conversation) return;
    var comment = box.querySelector('textarea').value.trim();
    var body = { rating: rating };
    if (comment) body.comment = comment;
    var button = box.querySelector('.rate-send');
    button.disabled = true;
    var path = '/conversations/' + encodeURIComponent(this.conversation.id) + '/satisfaction';
    this.request('POST', path, body, { idempotencyKey: randomId() }).then(function () {
      self.finishRating();
    }, function (error) {
      if (error.status === 409) {
        self.finishRating(); // Already rated, for instance in another tab.
        return;
      }
      button.disabled = false;
      self.reportError(error, 'rating');
    });
  };

  Widget.prototype.finishRating = function () {
    var box = this.dom.rating;
    var rated = this.remembered().rated || [];
    rated.push(this.conversation.id);
    this.remember({ rated: rated.slice(-20) });
    for (var i = 0; i < box.children.length; i++) {
      box.children[i].hidden = !box.children[i].classList.contains('thanks');
    }
  };

  // Realtime

  Widget.prototype.socketUrl = function () {
    return this.apiBase.replace(/^http/, 'ws') + '/realtime';
  };

  Widget.prototype.connect = function () {
    var self = this;
    if (this.stopped || !this.conversation || this.socket) return;
    if (typeof WebSocket !== 'function' ||
        this.socketFailures >= SOCKET_FAILURES_BEFORE_POLLING) {
      this.startPolling();
    }
    if (typeof WebSocket !== 'function') return;

    this.ensureSession().then(function (token) {
      if (self.stopped || self.socket) return;
      var socket;
      try {
        socket = new WebSocket(self.socketUrl());
      } catch (error) {
        self.socketClosed(null); // For instance a connect-src policy without ws:.
        return;
      }
      self.socket = socket;
      var opened = false;
      var resumed = false;
      self.resync = null;
      socket.onopen = function () {
        opened = true;
        socket.send(JSON.stringify({ type: 'auth', token: token }));
        var subscribe = { type: 'subscribe', channel: 'conversation:' + self.conversation.id };
        resumed = self.lastSequence != null;
        if (resumed) subscribe.since = self.lastSequence;
        socket.send(JSON.stringify(subscribe));
      };
      socket.onmessage = function (event) {
        var frame;
        try {
          frame = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        if (frame && frame.type === 'subscribed') {
          self.socketFailures = 0;
          self.socketLimitEpisode = false;
          self.stopPolling();
          self.clearRealtimeError();
          // Without a sequence to resume from, the messages and handoff
          // changes sent while the socket was down are read back by REST.
          if (!resumed) {
            self.loadHistory().then(function () {
              return self.refreshHandoff(self.handoffBaseline);
            }).catch(function (error) { self.reportError(error, 'history'); });
          }
          self.trackReplay(frame, socket);
        }
        if (frame && frame.type === 'error') self.resync = null;
        if (frame && !self.acceptInOrder(frame, socket)) return;
        self.handleFrame(frame);
      };
      socket.onclose = function (event) {
        if (self.socket === socket) self.socketClosed(event, opened);
      };
    }, function (error) {
      self.reportError(error, 'realtime');
    });
  };

  Widget.prototype.socketClosed = function (event, opened) {
    var self = this;
    this.socket = null;
    if (this.stopped) return;
    if (event && (event.code === 4401 || event.code === 4001)) this.token = null;
    this.socketFailures = opened && event && event.code === 1000 ? 0 : this.socketFailures + 1;
    if (event && event.code === CLOSE_TOO_MANY_SOCKETS) {
      // The organization has reached its maximum of open sockets, so replies come
      // by polling until a later attempt gets a socket.
      this.startPolling();
      if (!this.socketLimitReported && !this.socketLimitEpisode) {
        this.reportRealtimeError(new WidgetError('http', event.reason || 'too many sockets', {
          status: 429, code: 'RATE_LIMIT_EXCEEDED', details: { name: 'websocketConnections' }
        }));
      }
      this.socketLimitEpisode = true;
    }
    this.socketLimitReported = false;
    if (this.socketFailures >= SOCKET_FAILURES_BEFORE_POLLING) this.startPolling();
    // Back off with jitter: about 1 s, 2 s, 4 s ... up to 30 s.
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(this.socketFailures, 5)));
    delay = delay / 2 + Math.random() * delay / 2;
    clearTimeout(this.socketTimer);
    this.socketTimer = setTimeout(function () { self.connect(); }, delay);
  };

  // Count the events that a subscribed reply announces as replayed.
  Widget.prototype.trackReplay = function (frame, socket) {
    var data = frame.data || {};
    var replayLeft = typeof data.replayed === 'number' && data.replayed > 0 ? data.replayed : 0;
    var hasMore = data.hasMore === true;
    var nextSince = typeof data.nextSince === 'number' ? data.nextSince : null;
    if (replayLeft > 0) {
      this.resync = {
        awaitingReply: false, replayLeft: replayLeft, hasMore: hasMore, nextSince: nextSince
      };
      return;
    }
    this.resync = null;
    // A server older than nextSince names no later since to continue from
    // when it replayed nothing.
    if (hasMore && nextSince != null) this.replayNext(socket, nextSince);
  };

  // Resubscribe from nextSince, the last event the previous replay examined.
  // That event may be one a customer is never sent, such as an internal
  // note, so it can be above the last sequence seen.
  Widget.prototype.replayNext = function (socket, nextSince) {
    if (nextSince != null && (this.lastSequence == null || nextSince > this.lastSequence)) {
      this.lastSequence = nextSince;
    }
    this.resubscribe(socket);
  };

  Widget.prototype.resubscribe = function (socket) {
    this.resync = { awaitingReply: true, replayLeft: 0, hasMore: false, nextSince: null };
    socket.send(JSON.stringify({
      type: 'subscribe', channel: 'conversation:' + this.conversation.id, since: this.lastSequence
    }));
  };

  // Whether a frame from the socket may be handled now. Each event arrives in
  // increasing sequence, so one not above the last is a duplicate. A replay
  // with hasMore is continued from its reply's nextSince. A sequence more than one
  // above the last may follow a lost frame (Redis down between two server
  // processes), or only an event that a customer is not sent, such as an
  // internal note. The widget drops it and resubscribes from the last
  // sequence, and the replay returns any missed events and that one in order.
  Widget.prototype.acceptInOrder = function (frame, socket) {
    var expected = this.conversation && 'conversation:' + this.conversation.id;
    if (typeof frame.sequence !== 'number' || frame.channel !== expected) return true;
    var last = this.lastSequence;
    var resync = this.resync;
    if (resync && resync.awaitingReply) return false;
    if (!resync && last != null && frame.sequence > last + 1) {
      this.resubscribe(socket);
      return false;
    }
    if (resync) {
      resync.replayLeft -= 1;
      if (resync.replayLeft <= 0) {
        this.resync = null;
        // handleFrame has not stored this event's sequence yet.
        if (resync.hasMore) {
          if (last == null || frame.sequence > last) this.lastSequence = frame.sequence;
          this.replayNext(socket, resync.nextSince);
        }
      }
    }
    return last == null || frame.sequence > last;
  };

  Widget.prototype.handleFrame = function (frame) {
    if (!frame || typeof frame !== 'object') return;
    var expected = this.conversation && 'conversation:' + this.conversation.id;
    if (frame.channel && frame.channel !== expected) return;
    if (typeof frame.sequence === 'number' &&
        (this.lastSequence == null || frame.sequence > this.lastSequence)) {
      this.lastSequence = frame.sequence;
    }
    var data = frame.data || {};
    switch (frame.type) {
      case 'message':
        this.receive(data.message || data, true);
        break;
      case 'typing':
        this.applyTyping(data);
        break;
      case 'handoff':
        this.applyHandoff(data, true);
        break;
      case 'conversation':
        this.applyConversation(data.conversation || data);
        break;
      case 'ping':
        if (this.socket && this.socket.readyState === 1) {
          this.socket.send(JSON.stringify({ type: 'pong' }));
        }
        break;
      case 'error':
        // A failed authentication closes the socket, and the next one gets a new token.
        if (data.code === 'AUTHENTICATION_ERROR') {
          this.token = null;
          if (window.console) console.warn('Campfire realtime error: ' + (data.message || data.code));
          break;
        }
        var limited = data.code === 'RATE_LIMIT_EXCEEDED';
        // The socket limit's close (4429) follows this frame, and reports nothing again.
        this.socketLimitReported = limited && !!data.details &&
          data.details.name === 'websocketConnections';
        if (this.socketLimitReported && this.socketLimitEpisode) break;
        if (this.socketLimitReported) this.socketLimitEpisode = true;
        this.reportRealtimeError(new WidgetError(limited ? 'http' : 'realtime',
          data.message || data.code, {
            status: limited ? 429 : 0, code: data.code, details: data.details
          }));
        break;
      default:
        break;
    }
  };

  // Show the visitor a realtime failure, which a subscribed socket clears again.
  Widget.prototype.reportRealtimeError = function (error) {
    this.reportError(error, 'realtime');
    this.realtimeErrorShown = true;
  };

  Widget.prototype.clearRealtimeError = function () {
    if (!this.realtimeErrorShown) return;
    this.realtimeErrorShown = false;
    this.hideError();
  };

  // Polling keeps messages flowing when no WebSocket can be opened.
  Widget.prototype.startPolling = function () {
    var self = this;
    if (this.pollTimer || this.stopped) return;
    this.pollTimer = setInterval(function () {
      if (!self.conversation) return;
      self.request('GET', '/conversations/' + encodeURIComponent(self.conversation.id))
        .then(function (conv) {
          self.applyConversation(conv);
          return self.loadHistory();
        })
        .then(function () {
          return self.refreshHandoff(self.handoffBaseline);
        })
        .catch(function (error) {
          if (window.console) console.warn('Campfire: polling failed: ' + error.message);
        });
    }, POLL_MS);
  };

  Widget.prototype.stopPolling = function () {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  };

  // Lifecycle

  Widget.prototype.start = function () {
    var self = this;
    this.render();
    // A User Timing mark, so integrators and bench/widget.py can see when the launcher works.
    if (window.performance && performance.mark) performance.mark('campfire:ready');
    if (this.remembered().conversationId) {
      this.ensureSession().then(function () {
        return self.resume();
      }).catch(function (error) {
        self.reportError(error, 'resume');
      });
    }
  };

  Widget.prototype.teardown = function () {
    this.stopped = true;
    this.stopPolling();
    clearTimeout(this.socketTimer);
    clearTimeout(this.typingIdleTimer);
    clearTimeout(this.retryTimer);
    for (var key in this.typingTimers) clearTimeout(this.typingTimers[key]);
    if (this.socket) {
      var socket = this.socket;
      this.socket = null;
      socket.close(1000, 'widget shut down');
    }
    if (this.dom && this.dom.host.parentNode) this.dom.host.parentNode.removeChild(this.dom.host);
  };

  // Public API ------------------------------------------------------------

  var widget = null;
  var listeners = {};

  function checkEvent(name) {
    if (EVENTS.indexOf(name) < 0) {
      throw new TypeError('Campfire: unknown event "' + name + '"; expected one of ' + EVENTS.join(', '));
    }
  }

  function boot(config) {
    config = config || window.CampfireConfig || {};
    if (widget) widget.teardown();
    widget = null;
    if (!config.apiKey || !config.mailboxId) {
      if (window.console) {
        console.error('Campfire: window.CampfireConfig needs apiKey and mailboxId; the widget is not shown');
      }
      return false;
    }
    widget = new Widget(config);
    widget.listeners = listeners;
    widget.start();
    return true;
  }

  function started() {
    if (!widget) throw new Error('Campfire: the widget is not running; call Campfire.boot(config)');
    return widget;
  }

  window.Campfire = {
    version: VERSION,
    on: function (name, callback) {
      checkEvent(name);
      if (typeof callback !== 'function') throw new TypeError('Campfire.on needs a function');
      (listeners[name] = listeners[name] || []).push(callback);
      return function () { window.Campfire.off(name, callback); };
    },
    off: function (name, callback) {
      var list = listeners[name];
      if (!list) return;
      if (!callback) {
        list.length = 0;
        return;
      }
      var index = list.indexOf(callback);
      if (index >= 0) list.splice(index, 1);
    },
    open: function () { started().open(); },
    close: function () { started().close(); },
    toggle: function () { started().toggle(); },
    isOpen: function () { return !!(widget && widget.isOpen); },
    sendMessage: function (text) {
      return widget ? widget.sendMessage(text) : Promise.reject(new Error('Campfire is not running'));
    },
    // Switch to another visitor, for instance after the host page logs a user in.
    identify: function (identity) {
      identity = identity || {};
      var previous = widget ? widget.config : (window.CampfireConfig || {});
      var config = {};
      for (var key in previous) config[key] = previous[key];
      if ('customerId' in identity) config.customerId = identity.customerId;
      if ('customerHash' in identity) config.customerHash = identity.customerHash;
      if ('name' in identity) config.customerName = identity.name;
      if ('customerName' in identity) config.customerName = identity.customerName;
      if ('email' in identity) config.customerEmail = identity.email;
      if ('customerEmail' in identity) config.customerEmail = identity.customerEmail;
      var wasOpen = widget && widget.isOpen;
      if (!boot(config)) return Promise.resolve(false);
      if (wasOpen) widget.open();
      return widget.ensureSession().then(function () { return true; });
    },
    // Remove the widget and forget this visitor's conversation on this device.
    shutdown: function () {
      if (!widget) return;
      storageSet(widget.storageKey(), null);
      widget.teardown();
      widget = null;
    },
    boot: boot
  };

  // The snippet usually sits at the end of <body>; in <head> wait for the body.
  if (document.body) {
    boot();
  } else {
    document.addEventListener('DOMContentLoaded', function () { boot(); });
  }
})();

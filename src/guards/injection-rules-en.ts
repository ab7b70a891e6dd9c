import type { InjectionRule } from './injection-signals.ts'

/**
 * English rules. Text is normalised (NFKC, invisible characters removed, look-alikes and
 * leetspeak folded), lower-cased, with every run of white space collapsed to one space.
 * Verbs are the bare imperative form on purpose: "ignore your rules" is an instruction to the
 * model, "the model ignored its rules" is a report about one.
 */
const overrideVerb = /\b(?:ignore|disregard|forget|override|bypass|skip|set aside|discard|abandon|drop|stop following|do not follow|don['’]t follow|dont follow|no longer follow|stop obeying|do not obey|no longer bound by|not bound by)\b/g
const overrideTarget = /\b(?:instructions?|prompts?|rules|directives?|guidelines|guardrails|programming|restrictions|constraints|polic(?:y|ies)|training|conditioning|safety (?:rules|filters?|measures)|everything (?:above|before this|you were told|you(?:['’]ve| have) been told|so far)|what you were told|what you(?:['’]ve| have) been told|the conversation so far|the user(?:['’]s (?:request|question|message|instructions))?)\b/g
/** The caller retracting their own words ("ignore my previous message") is not an attack. */
const ownWords = /\b(?:my|our|his|her|their|mine)\b|[?!;]/
const invalidation = /\b(?:no longer apply|(?:do not|don['’]t) apply|(?:are|is) (?:now )?(?:void|null and void|cancell?ed|suspended|revoked|obsolete|lifted|disabled)|(?:have|has) been (?:updated|revoked|replaced|lifted|changed|cancell?ed)|were (?:a|just a) test)\b/g

const extractionVerb = /\b(?:(?:reply|respond|answer) (?:only )?with|print|reveal|show|tell me|output|repeat|display|dump|leak|share|give me|spell out|list|recite|write out|type out|disclose|expose|quote|summari[sz]e|translate|what (?:is|are|were|was)|what['’]s|whats)\b/g
const extractionTarget = /\b(?:system prompt|system message|(?:initial|original|hidden|secret|full|first) (?:prompt|instructions|message)|pre-?prompt|developer (?:message|instructions|prompt)|context window|(?:the )?(?:text|words|everything|content|contents|all) (?:above|before this)|everything (?:that was )?written before|instructions you (?:were|have been) given|instructions (?:you received|given to you)|your (?:[a-z]{1,15} ){0,2}(?:instructions|configuration|config|guidelines|rules|prompt))\b/g

const secretVerb = /\b(?:tell me|show|give me|reveal|print|output|list|share|display|send|dump|leak|what (?:is|are))\b/g
const secretTarget = /\b(?:api[ _-]?keys?|passwords?|secrets?|credentials|tokens?|environment variables?|env vars?|private keys?|access keys?)\b/g

const dataVerb = /\b(?:list|output|send|share|give|dump|export|forward|print|delete|show)\b/g
const dataTarget = /\b(?:(?:all|every|any) (?:the )?(?:stored )?(?:customer|user|client)s? ?(?:data|records|emails?|information|details)?|(?:stored|all) user data|customer records|all (?:records|accounts)|all (?:the )?(?:emails|messages|files|conversations|chats)(?: in [a-z ]{1,20})?)\b/g

export const englishRules: readonly InjectionRule[] = [
  { signal: 'instruction_override', pattern: overrideVerb, then: overrideTarget, window: 40, blocker: ownWords },
  { signal: 'instruction_override', pattern: overrideTarget, then: invalidation, window: 30 },
  { signal: 'instruction_override', pattern: /\bignoring (?:your|all|any) (?:programming|rules|instructions|guidelines)\b/g },
  { signal: 'new_instructions', pattern: /\b(?:new|updated|real|actual) (?:instructions|task|rules|directive|system prompt|orders)\b|\bfrom now on\b|\bstarting now,? you\b|\binstead,? (?:you (?:must|will|should)|do|write|output|reveal|print)\b/g },
  { signal: 'role_impersonation', pattern: /\b(?:system|developer|admin|administrator|root) ?:/g, lineStart: true, lineNeeds: /\b(?:you|your|assistant|the ai|the model|ignore|disregard|override|reveal)\b/ },
  { signal: 'role_impersonation', pattern: /\bassistant ?:/g, lineStart: true, scale: 0.7 },
  { signal: 'role_impersonation', pattern: /\b(?:human|user) ?:/g, lineStart: true, scale: 0.3 },
  { signal: 'role_impersonation', pattern: /\[(?:system|sys|admin|developer)(?: message| note| override| prompt)?\]|#{2,4} ?(?:system|instruction|instructions) ?:|<\/?(?:system|system_prompt|admin_instructions)>/g },
  { signal: 'authority_claim', pattern: /\b(?:i am|i['’]m) (?:your|the) (?:developer|creator|admin|administrator|owner|operator|system administrator)\b|\bmessage from (?:openai|anthropic|the developers?|your developers?|the admin(?:istrator)?|the system)\b|\b(?:developer|admin|administrator|sudo|root) (?:override|access|command)\b|\bauthori[sz]ed (?:red[- ]team|jailbreak|test|override)\b|\boverride code\b|\bpriority override\b|\b(?:updated|changed|modified) by the (?:administrator|admin|developers?|system)\b|\bdeveloper team\b/g },
  { signal: 'delimiter_injection', pattern: /(?:-{3,12}|={3,12}|#{3,12}|\*{3,12}|\[{1,3}|<{1,3}) ?(?:end|begin|start) (?:of )?(?:the )?(?:user |system )?(?:input|text|context|document|prompt|conversation|instructions|data|message|query)\b|\bend_of_(?:context|input|text|document|prompt)\b|#{2,6} ?new (?:instructions|task|rules|system prompt)|<\/(?:user_query|user_input|user|instructions|document|context|input|data)>|<(?:admin|instructions|new_instructions)>|\b(?:now that|since) the (?:document|text|input|email) is over\b/g },
  { signal: 'role_json', pattern: /"role" ?: ?"(?:system|developer)"/g, ignoresQuotes: true },
  { signal: 'prompt_extraction', pattern: extractionVerb, then: extractionTarget, window: 40, blocker: ownWords },
  { signal: 'prompt_extraction', pattern: /\b(?:verbatim|word for word|one letter at a time|exactly as written)\b/g, scale: 0.4 },
  { signal: 'secret_request', pattern: secretVerb, then: secretTarget, window: 40, blocker: ownWords, requires: /\byour?\b/ },
  { signal: 'data_request', pattern: dataVerb, then: dataTarget, window: 30 },
  { signal: 'jailbreak_persona', pattern: /\bdo anything now\b|\byou are (?:now )?dan\b|\b(?:enable|enter|activate|switch to|turn on) (?:developer|god|jailbreak|dan|debug|maintenance|unrestricted) mode\b|\bin (?:developer|jailbreak|dan|god|maintenance|debug) mode\b|\b(?:ai|assistant|model|chatbot|you|yourself) (?:with|without|that has|who has|have|has) (?:no|any|zero) (?:restrictions|filters|content polic(?:y|ies)|rules|limits|limitations|guidelines|censorship|morals|ethics)\b|\bunrestricted (?:ai|model|assistant|mode|version)\b|\bunfiltered (?:ai|assistant|model|mode|answers?|responses?)\b|\bnever (?:refuse|say no)\b|\bjailbr(?:eak|oken)\b|\bevil (?:ai|assistant|twin|version)\b|\bsafety (?:filters?|guidelines|rules) (?:are |is )?(?:disabled|off|removed|turned off)\b|\bno (?:moral|ethical) (?:constraints|guidelines|limits)\b|\bbroken free of\b/g },
  { signal: 'addressed_to_ai', pattern: /\b(?:note|message|instructions?|important instructions?|attention|notice) (?:to|for) (?:the |any |all )?(?:ai|ais|assistant|assistants|language model|llm|chatbot|model|bot)s?\b|\b(?:ai|assistant|llm|language model)s? (?:reading|summari[sz]ing|processing|parsing) (?:this|these)\b|\bwhen an? (?:ai|assistant|llm|language model) reads this\b|\bif you are an? (?:ai|assistant|llm|language model)\b|\b(?:ai|assistant), (?:ignore|you must|disregard|forget|do not|don['’]t|stop)\b|\bfor the ai (?:summari[sz]ing|reading)\b/g, ignoresQuotes: true },
  { signal: 'exfiltration', pattern: /\b(?:send|forward|email|post|upload|exfiltrate|leak) (?:[a-z']{1,20} ){0,5}to (?:https?:|[a-z0-9._-]{1,40}[@a][a-z0-9-]{1,40}\.[a-z]{2,10}\b|this (?:url|address))|\bvisit https?:|\bcall the [a-z_]{1,40} tool\b|\btransfer_funds\b/g },
  { signal: 'decode_and_execute', pattern: /\b(?:decode|decrypt|base64|hex|rot13)\b/g, then: /\b(?:follow|execute|run|do it|obey|act on|carry out|perform)\b/g, window: 60 },
  { signal: 'decode_and_execute', pattern: /\b(?:follow|execute|run|obey)\b/g, then: /\b(?:encoded|base64|hex|decoded|this)\b ?:?/g, window: 30, scale: 0.6 }
]

/** Words that mark text *about* prompt injection (training, reports, filters) rather than one. */
export const englishDiscussion = /\bprompt injections?\b|\binjection attacks?\b|\bjailbreaks\b|\bred[- ]team(?:ing)?\b|\battackers?\b|\battacks?\b|\bowasp\b|\bsecurity (?:awareness|training|course|team|report|research)\b|\bquiz\b|\bblog post\b|\bunit tests?\b|\bregex\b|\bcontent filter\b|\bmitigations?\b|\bdefen[cs]es?\b|\bexample of\b/

"""Does a text show the mentee's own analysis (charter, article 4)? French and English.

A genuine analysis says what the person thought, tried, checked, understood or hesitates
about, in the first person ("I compared…", "J'ai cartographié…", "je penche pour…"), through
the words of a hypothesis ("mon intuition", "my hunch", "deux pistes", "either… or…") or as
reasoning about causes ("vient sans doute de…", "comes from…", "because…"). A text without any
of these (the facts again, "je ne sais pas", a plea, the ask itself, small talk) is refused.

Issue 14: the former check looked for a short list of phrases and refused "I compared ticket
volumes and found the drop comes from longer handling times". These cues are grammatical
(a first-person subject followed by a verb of thinking or doing, a past participle or an
English past tense) rather than a list of sentences, so a new wording still passes. Tuned on
tests/corpus/analysis_dev.yaml only; benchmarks/bench_analysis.py measures the held-out set.

Pure: a function of the text. Texts are folded (case, accents, apostrophes) first.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.policies.textnorm import fold

# Words that may sit between a subject and its verb ("I have already tried", "j'ai d'abord
# pensé", "on a longtemps essayé").
_EN_ADV = (
    r"(?:(?:already|also|first|then|just|finally|actually|even|recently|really|honestly|"
    r"since|now|still|briefly|carefully|quickly|never|always|often|once|twice|initially|"
    r"personally|partly|mostly|basically|simply|clearly|probably|genuinely|kind of|sort of)\s+)*"
)
_FR_ADV = (
    r"(?:(?:d[eé]j[aà]|aussi|d'abord|ensuite|enfin|bien|longtemps|vraiment|souvent|"
    r"plusieurs fois|r[eé]cemment|moi-m[eê]me|nous-m[eê]mes|rapidement|finalement|"
    r"[eé]galement|m[eê]me|personnellement|tout de suite|alors|peut-[eê]tre|sans doute|"
    r"un peu|beaucoup|tous|toutes|tout|longuement|vite|mieux|seule?s?)\s+)*"
)

# English verbs that show thinking or doing, in the present or with a modal ("I suspect",
# "I'd rather", "we could"), and irregular past tenses (the regular ones end in -ed).
_EN_PRESENT = (
    r"think|believe|suspect|guess|feel|see|notice|wonder|suppose|assume|reckon|doubt|"
    r"understand|realise|realize|expect|plan|intend|want to|would like|'d like|'d rather|"
    r"would rather|prefer|lean|hesitate|consider|imagine|fear|worry|sense|gather|infer|"
    r"conclude|hope to|need to|tend to|keep|can see|could|might|may|should|would|will|"
    r"like to|rather|"
    r"have (?:been|a feeling|the feeling|the impression|a hunch|an idea|two|three|several)|"
    r"'ve (?:been|a feeling|the feeling|the impression|a hunch|an idea)|"
    r"(?:have|'ve|had|'d) \w+ed|(?:have|'ve|had|'d) (?:\w+ )?(?:" + "{irregular}" + r")"
)
_EN_IRREGULAR = (
    r"found|thought|tried|saw|seen|spoke|spoken|made|wrote|written|met|took|taken|went|gone|"
    r"began|begun|felt|knew|known|ran|built|drew|drawn|set up|put|read|heard|told|said|"
    r"sent|led|brought|sought|caught|got|gotten|gave|given|did|done|chose|chosen|understood|"
    r"kept|left|held|ran|rang|sat|stood|taught|won|lost|paid|spent|bought|dug|meant|learnt|"
    r"learned|noticed|realised|realized|asked|looked|checked"
)

_EN_ONGOING = (
    r"thinking|considering|starting|trying|wondering|hesitating|torn|tempted|inclined|leaning|"
    r"planning|going to|not sure|unsure|convinced|afraid|worried|beginning|looking|weighing|"
    r"keeping|tracking|testing|working on|struggling|realising|realizing|seeing|noticing"
)
_EN_FIRST_PERSON = re.compile(
    rf"(?<![\w'])(?:i|we)(?:'ve|'d|'ll)?\s+{_EN_ADV}"
    rf"(?:\w+ed\b|(?:{_EN_IRREGULAR})\b|(?:{_EN_PRESENT.format(irregular=_EN_IRREGULAR)})\b)"
    rf"|(?<![\w'])(?:i'm|i am|we're|we are)\s+{_EN_ADV}(?:{_EN_ONGOING})\b"
)

# "my hunch", "in my view", "to me", "as far as I can tell", "from what I've seen"…
_EN_STANCE = re.compile(
    r"\b(?:my|our) (?:guess|hunch|reading|sense|impression|feeling|take|understanding|"
    r"hypothesis|view|analysis|intuition|theory|idea|conclusion|suspicion|instinct|gut|"
    r"belief|thinking|first thought|point of view|interpretation|working assumption)\b|"
    r"\bin my (?:view|opinion|experience|mind)\b|\bto me\b|\bas far as i\b|\bfrom what (?:i|we)\b|"
    r"\bhaving (?:\w+ed|read|seen|spoken|met|done|thought|tried|looked|checked)\b|"
    r"\bit (?:seems|looks|appears|feels) (?:to me|like|as if|that)\b"
)

# Reasoning without a first person: causes, hypotheses, options.
_EN_REASONING = re.compile(
    r"\b(?:comes? from|came from|stems? from|due to|because|caused by|the cause|the reason|"
    r"root cause|which explains|that explains|this explains|probably|perhaps|maybe|likely|"
    r"seems|seemed|apparently|might be|could be|may be|hypothesis|options?|either\b.+\bor|"
    r"two (?:options|ways|paths|possibilities|explanations)|a pattern|trace[sd]? back|"
    r"rather than|instead of|not from|not because|so that|which means|therefore)\b"
)

# French: a first-person subject and a verb of thinking or doing, or a past participle.
_FR_SUBJECT = r"(?:je|j'|nous|on|moi,? je)"
_FR_PRESENT = (
    r"pense|crois|trouve|suppose|soupconne|sens|vois|constate|remarque|note|observe|"
    r"comprends|imagine|crains|doute|hesite|penche|envisage|propose|prefere|compte|veux|voudrais|"
    r"souhaite|aimerais|pourrais|devrais|vais|essaie|essaye|tente|cherche|demande|"
    r"me demande|me rends compte|me dis|m'interroge|m'apercois|me sens|"
    r"n'arrive pas|n'ai pas reussi|n'ai pas pu|n'ose pas|ne suis pas sure?|ne sais pas si|"
    r"m'etonne|retiens|deduis|conclus|lis|relis|analyse|peux|pouvons|devons|allons|voulons|"
    r"pensons|croyons|voyons|hesitons|envisageons|proposons|sais que|sais bien|"
    r"ne comprends pas pourquoi|n'ai pas (?:encore )?(?:reussi|pu|ose|obtenu|trouve|su|eu)|"
    r"n'avons pas (?:encore )?(?:reussi|pu|ose|obtenu|trouve|su|eu)"
)
_FR_FIRST_PERSON = re.compile(
    rf"(?<![\w']){_FR_SUBJECT}\s*{_FR_ADV}(?:{_FR_PRESENT})\b"
)
# "j'ai relu", "nous avons mesuré", "on a testé", "je me suis aperçu", "je suis allée": read on
# the text with its accents ("j'ai une réunion" is no participle, "j'ai relevé" is).
_PARTICIPLE = (
    r"[^\W\d_]+(?:é|ée|és|ées|i|ie|is|ies|it|ite|u|ue|us|ues|ert|erte|ait|aite|int|ainte)"
)
_NOT_PARTICIPLE = frozenset({
    "du", "trois", "lui", "qui", "ici", "parfois", "si", "ni", "tout", "plus", "moins",
    "une", "assez", "tellement", "vraiment",
})
_FR_PARTICIPLE = re.compile(
    r"(?<![\w'])(?:j'ai|j'avais|j'aurais|nous avons|nous avions|nous aurions|on a|on avait|"
    r"je me suis|nous nous sommes|on s'est|je m'étais|on s'était)\s+"
    rf"{_FR_ADV}({_PARTICIPLE})\b"
)
_FR_MOVED = re.compile(
    r"(?<![\w'])(?:je suis|nous sommes|on est|j'étais)\s+(?:allée?s?|passée?s?|retournée?s?|"
    r"revenue?s?|intervenue?s?|partie?s?|venue?s?)\b"
)
_FR_STANCE = re.compile(
    r"\b(?:mon|ma|mes|notre|nos) (?:hypothese|hypotheses|intuition|lecture|analyse|impression|"
    r"sentiment|idee|idees|piste|pistes|avis|ressenti|interpretation|conclusion|soupcon|"
    r"constat|comprehension|point de vue|premiere idee|crainte|doute|doutes)\b|"
    r"\b(?:a mon avis|selon moi|d'apres moi|pour moi|de mon cote|a mes yeux|de mon point de vue|"
    r"d'apres ce que|ce que j'en|ce que je|il me semble|il me parait|il m'a semble|"
    r"j'ai l'impression|j'ai le sentiment|j'ai l'intuition|ce qui me frappe|je dirais|"
    r"a priori|apres avoir|en (?:regardant|discutant|comparant|observant|analysant|relisant|"
    r"creusant|parlant|ecoutant|recoupant|echangeant|reprenant|examinant))\b"
)
_FR_REASONING = re.compile(
    r"\b(?:vient (?:de|du|des|d')|viendrait|viennent|provient|s'explique|explique|a cause|"
    r"en raison|parce que|parce qu'|puisque|car|donc|d'ou|c'est pourquoi|si bien que|"
    r"peut-etre|probablement|sans doute|visiblement|apparemment|semble|semblent|semblerait|"
    r"pourrait|pourraient|serait|seraient|hypothese|hypotheses|piste|pistes|options?|"
    r"soit\b.+\bsoit|plutot que|plutot|la cause|la raison|tient a|tiennent a|lie a|liee a|"
    r"deux (?:options|pistes|solutions|possibilites|explications|approches)|"
    r"plusieurs (?:options|pistes|solutions|possibilites|explications))\b"
)

# Sayings that hand the thinking over: alone, they are no analysis ("je ne sais pas").
_NOTHING = re.compile(
    r"\b(?:je ne sais pas|je sais pas|j'en sais rien|je n'en sais rien|aucune idee|pas d'idee|"
    r"rien|je suis perdue?|aidez-moi|au secours|que dois-je|que faire|dites-moi|"
    r"i don't know|i do not know|i dont know|no idea|no clue|nothing|help me|please help|"
    r"what should i|tell me what|i'm lost|i am lost)\b"
)


@lru_cache(maxsize=1024)
def analysis_cues(text: str) -> tuple[str, ...]:
    """The kinds of cues found in `text` (empty: no sign of the person's own analysis)."""
    folded = f" {fold(text)} "
    accented = " " + " ".join(unicodedata.normalize("NFC", text).casefold().replace(
        "\u2019", "'").split()) + " "
    found: list[str] = []
    if _EN_FIRST_PERSON.search(folded) or _FR_FIRST_PERSON.search(folded):
        found.append("first_person")
    participles = [m.group(1) for m in _FR_PARTICIPLE.finditer(accented)]
    if any(p not in _NOT_PARTICIPLE for p in participles) or _FR_MOVED.search(accented):
        found.append("done")
    if _EN_STANCE.search(folded) or _FR_STANCE.search(folded):
        found.append("stance")
    if _EN_REASONING.search(folded) or _FR_REASONING.search(folded):
        found.append("reasoning")
    return tuple(found)


def shows_analysis(text: str, extra_markers: re.Pattern[str] | None = None) -> bool:
    """True when the text shows the person's own thinking (see the module's docstring)."""
    if extra_markers is not None and extra_markers.search(f" {fold(text)} "):
        return True
    cues = analysis_cues(text)
    if not cues:
        return False
    # "je ne sais pas, c'est compliqué car…": reasoning alone beside a plea is no analysis.
    return not (cues == ("reasoning",) and _NOTHING.search(f" {fold(text)} "))

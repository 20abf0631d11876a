"""The keys of the texts the code says (their wording is in `flows/system.yaml`), and rendering.

Python refers to a text by its key; the French text is the gettext message id; the person's
catalog translates it; the placeholders are filled last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.config import IDENTIFYING_KINDS
from bot.i18n import gettext, ngettext

# The headings of the Markdown and HTML exports.
EXPORT_HEADINGS = (
    "export_intro",
    "export_charter",
    "export_questions",
    "export_no_questions",
    "export_context",
    "export_analysis",
    "export_ask",
    "export_answers",
    "export_journal",
    "export_in",
    "export_out",
    "export_from_mentor",
    "export_charter_read",
    "export_your_reply",
    "export_thread_answer",
    "export_thread_followup",
    "export_thread_redirect_session",
    "export_thread_redirect_other",
)

REQUIRED_TEXTS = frozenset(
    {
        "date_pattern",
        "date_short_pattern",
        "time_pattern",
        "unknown_sender",
        "charter_first",
        "charter_changed",
        "charter_article_position",
        "charter_articles_changed",
        "charter_resumed",
        "state_reset",
        "empty_message",
        "emoji_only",
        "too_long",
        "not_a_choice",
        "unknown_command",
        "command_not_allowed",
        "command_needs_charter",
        "console_only",
        "help",
        "help_mentor",
        "choice_ambiguous",
        "hours_summary",
        "hours_days_range",
        "commands_mentee",
        "commands_mentor",
        "question_sent_open",
        "question_sent_closed",
        "question_discarded",
        "journal_empty",
        "journal_header",
        "journal_item",
        "status_sent",
        "status_read",
        "status_answered",
        "status_closed",
        "charter_reread",
        "digest_header",
        "digest_count_questions",
        "digest_count_flags",
        "digest_question",
        "digest_waiting",
        "digest_none",
        "digest_closed",
        "digest_flag",
        "digest_closed_by_mentee",
        "digest_list_header",
        "digest_list_item",
        "digest_list_closed",
        "digest_list_footer",
        "digest_choice_show",
        "digest_choice_next",
        "digest_not_pending",
        "choice_stale",
        "choice_stale_step",
        "flag_urgent",
        "flag_distress",
        "flag_check_in",
        "reply_usage",
        "reply_unknown",
        "reply_sent",
        "answer_received",
        "attachment_refused",
        "attachment_image",
        "attachment_document",
        "attachment_audio",
        "attachment_video",
        "attachment_sticker",
        "attachment_location",
        "attachment_contact",
        "attachment_other",
        "safety_urgent",
        "safety_distress",
        "safety_check_in",
        "safety_out_of_scope",
        "safety_continue",
        "safety_choice_continue",
        "safety_choice_numbers",
        "safety_choice_not_safe",
        "safety_choice_keep",
        "safety_not_saved",
        "safety_not_safe",
        "safety_words_safe",
        "safety_words_unsafe",
        "safety_resumed",
        "identifying_found",
        "identifying_choice_mask",
        "identifying_choice_rephrase",
        "identifying_choice_not_identifying",
        "identifying_masked",
        "identifying_rephrase",
        "identifying_lost",
        "identifying_resend",
        "way_out_offer",
        "way_out_choice_send",
        "way_out_choice_rephrase",
        "way_out_sent",
        *(f"kind_{k}" for k in IDENTIFYING_KINDS),
        *(f"placeholder_{k}" for k in IDENTIFYING_KINDS),
        "console_welcome",
        "console_switched",
        "console_unknown_person",
        "console_waited",
        "console_bad_duration",
        "data_unreadable",
        "data_unreadable_mentor",
        "export_title",
        "export_signed",
        *EXPORT_HEADINGS,
        "export_summary_intro",
        "export_summary_recent",
        "export_summary_item",
        "export_summary_followup",
        "export_document_caption",
        "export_elsewhere",
        "export_filename",
    }
)


_TOKEN = re.compile(r"\{\{|\}\}|\{([a-z_][a-z0-9_]*)\}")


def fill(template: str, params: Mapping[str, Any]) -> str:
    """Fill `{name}` placeholders with plain values. Nothing else of `str.format` is honoured
    (no attribute or index access, no conversion, no format spec), so a text or translation can
    never reach into Python objects; `{{` and `}}` are literal braces; an unknown placeholder
    stays visible (validation catches it earlier)."""
    if "{" not in template and "}" not in template:
        return template

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        return str(params[name]) if name in params else token

    return _TOKEN.sub(replace, template)


def render(source: str, params: Mapping[str, Any] | None = None,
           plural: str | None = None) -> str:
    """Translate a French source text into the current locale, then fill it. A text with a
    `plural` form is chosen by the number in `params["count"]`."""
    values = params or {}
    if plural is None:
        return fill(gettext(source), values)
    return fill(ngettext(source, plural, int(values.get("count", 0))), values)

"""What a flow may name: the allowlisted actions and checks, and the placeholders of texts.

A YAML flow never names Python code. It names an entry of these tables; the engine maps each
name to its implementation (`bot.engine.actions`, `bot.engine.checks`), and a test keeps the
two in step.
"""

from __future__ import annotations

import re

# action name -> what it does (shown by `flows validate` when a name is unknown)
ACTIONS: dict[str, str] = {
    "sign_charter": "records the signature (name typed in the step, date, channel, "
                    "charter version)",
    "resume_charter": "goes back to the charter's article the person was reading (the one "
                      "refused), else to the choice's next step",
    "new_question": "starts an empty question draft",
    "submit_question": "sends the drafted question to the mentor and acknowledges it",
    "discard_question": "throws the draft away",
    "show_charter": "shows every article of the charter again",
    "show_journal": "lists the person's questions with their dates and status",
    "show_help": "shows the help resources and the limits of the service",
    "show_digest": "shows a mentor the pending questions (inside opening hours)",
    "select_question": "checks that the question {qid} is one of the mentor's mentees'",
    "select_own_question": "checks that the question {qid} is the mentee's own",
    "answer_question": "sends the mentor's {answer} to the mentee at once",
    "redirect_to_session": "redirects {qid} to a formal session, with the {proposal}",
    "redirect_to_professional": "redirects {qid} to another professional ({proposal})",
    "add_followup": "adds the mentee's {followup} to the question's thread",
}

# check name -> {parameter: type}
CHECKS: dict[str, dict[str, type]] = {
    "not_empty": {},
    "min_words": {"min": int, "way_out_after": int},
    "max_length": {"max": int},
    "mentions_attempt": {"markers": list, "way_out_after": int},
    "not_delegating": {"markers": list, "options": list},
    "on_topic": {"off_topic": list, "work": list},
    "full_name": {},
    "question_id": {},
}

POLICIES = ("confidentiality",)

# Every `{placeholder}` a text may use. Texts are formatted with plain names only.
PLACEHOLDERS = frozenset({
    "name", "mentor", "mentee", "date", "when", "qid", "context", "analysis", "ask", "count",
    "limit", "command", "commands", "kind", "found", "status", "text", "articles", "version",
    "since", "until", "flags", "items", "mentees", "resources", "id", "label", "who", "code",
    "link", "total", "hours", "days",
    "first", "last", "page", "pages",  # the pages of a digest's list of questions
})

PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
STEP_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def placeholders(text: str) -> list[str]:
    """The `{names}` used by a text (doubled braces `{{` are literal)."""
    stripped = text.replace("{{", "").replace("}}", "")
    return PLACEHOLDER_RE.findall(stripped)


def lone_braces(text: str) -> bool:
    """True when a `{` or `}` is neither doubled nor part of a `{placeholder}`."""
    stripped = text.replace("{{", "").replace("}}", "")
    return "{" in PLACEHOLDER_RE.sub("", stripped) or "}" in PLACEHOLDER_RE.sub("", stripped)

"""`/export` in the chat: a short summary of the person's questions (status, and the latest of
each thread), then the whole trace as an HTML document where the channel can send one, or where
to get it elsewhere.

Nothing of an export is journaled, so the next export never contains the previous one, and
nothing of it is written to the outbox either (both messages are volatile, in order): the
trace is in the store already, and is rebuilt on each request.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import Question
from bot.engine.turn import Turn
from bot.messages import DOCUMENT_CHANNELS, Document

SUMMARY_QUESTIONS = 10  # the most recent questions summarised in the chat
SUMMARY_ITEMS = 4  # the latest items of each question's thread
SUMMARY_CHARS = 200  # a longer text is cut in the summary (it is whole in the document)
ELLIPSIS = "\u2026"


def cut(text: str, limit: int = SUMMARY_CHARS) -> str:
    """`text` on one line, cut at a word within `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = flat[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:.") + ELLIPSIS


def _question(turn: Turn, q: Question) -> str:
    lines = [
        turn.text(
            "journal_item",
            qid=q.id,
            ask=cut(q.ask),
            date=turn.when(datetime.fromisoformat(q.submitted_at), short=True),
            status=turn.text(f"status_{q.status.value}"),
        )
    ]
    items = q.thread[-SUMMARY_ITEMS:]
    if len(q.thread) > len(items):
        lines.append(ELLIPSIS)
    for t in items:
        lines.append(
            turn.text(
                "export_summary_item",
                label=turn.text(f"export_thread_{t.kind.value}"),
                date=turn.when(datetime.fromisoformat(t.at), short=True),
                text=cut(t.text),
            )
        )
    return "\n".join(lines)


def summary(turn: Turn) -> str:
    """Questions, status and answers, short enough to read in a chat."""
    asked = turn.uow.questions_of(turn.profile.id)
    if not asked:
        return turn.text("journal_empty")
    shown = asked[-SUMMARY_QUESTIONS:]
    parts = [turn.text("export_summary_intro"), turn.text("journal_header", count=len(asked))]
    if len(shown) < len(asked):
        parts.append(turn.text("export_summary_recent", count=len(shown)))
    parts.extend(_question(turn, q) for q in shown)
    return "\n\n".join(parts)


def document(turn: Turn) -> Document:
    """The whole trace as a self-contained HTML page, in the person's language."""
    from bot.data.export import collect, render

    record = collect(turn.engine, turn.uow, turn.profile.id)
    page = render(record, "html", turn.engine, turn.profile.locale)
    day = turn.now.astimezone(turn.engine.calendar.tz).date().isoformat()
    return Document(turn.text("export_filename", date=day), "text/html", page.encode("utf-8"))


def in_chat(turn: Turn) -> None:
    turn.send(turn.party, summary(turn), volatile=True, journaled=False)
    channel = turn.profile.id.split(":", 1)[0]
    if channel in DOCUMENT_CHANNELS:
        caption = turn.text("export_document_caption")
        turn.send(turn.party, caption, document=document(turn), journaled=False)
    else:
        text = turn.text("export_elsewhere", id=turn.profile.id)
        turn.send(turn.party, text, volatile=True, journaled=False)

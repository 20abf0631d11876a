"""Markdown and HTML exports of a person's trace, from Jinja2 templates.

The HTML page is self-contained (inline style, no other file) and printable. Headings come
from the translatable texts, in the person's language.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

if TYPE_CHECKING:
    from bot.engine.core import Engine


def _environment(fmt: str) -> Environment:
    return Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_MENTOR_KINDS = ("answer", "redirect_")  # journal lines that carry the mentor's words


def render_document(
    record: dict[str, Any], fmt: str, engine: Engine, locale: str | None = None
) -> str:
    from bot.engine.texts import EXPORT_HEADINGS, render
    from bot.flows.model import Target
    from bot.i18n import format_when, gettext

    person = record["person"]
    profile = engine.directory.roster(person["id"])
    if locale is None and profile is not None:
        locale = profile.locale
    texts = engine.flows.texts

    with engine.catalogs.use(locale) as locale:

        def when(value: str) -> str:
            if not value:
                return ""
            return format_when(
                datetime.fromisoformat(value), texts["date_short_pattern"], engine.config.timezone
            )

        words = {key: render(texts[key]) for key in EXPORT_HEADINGS}
        title = render(texts["export_title"], {"name": person["name"] or person["id"]})
        signatures = [
            render(
                texts["export_signed"],
                {
                    "name": s["name"],
                    "date": when(s["at"]),
                    "version": s["version"],
                    "id": s["channel"],
                },
            )
            for s in record["charter"]
        ]
        template = _environment(fmt).get_template(f"export.{fmt}.j2")
        mentee = person.get("role") == "mentee"

        def author(entry: dict[str, Any]) -> str:
            """Who wrote a journal line, as the person reading their own trace says it."""
            if entry.get("direction") == "in":
                return words["export_in"]
            if str(entry.get("kind", "")).startswith(_MENTOR_KINDS):
                return words["export_from_mentor" if mentee else "export_your_reply"]
            return words["export_out"]

        charter = engine.flows.entry["charter"].flow or ""

        def line(entry: dict[str, Any]) -> str:
            """A journal line's text; a charter article read is journalled by reference."""
            text = str(entry.get("text", ""))
            if entry.get("kind") != "charter_article":
                return text
            step = engine.flows.step(Target(charter, text.partition(":")[2]))
            title = gettext(step.say).strip().splitlines()[0] if step and step.say else ""
            return render(texts["export_charter_read"], {"text": title or text})

        return template.render(
            record=record, words=words, title=title, when=when, signatures=signatures,
            lang=locale, author=author, line=line,
        )

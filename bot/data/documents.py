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


def render_document(
    record: dict[str, Any], fmt: str, engine: Engine, locale: str | None = None
) -> str:
    from bot.engine.texts import EXPORT_HEADINGS, render
    from bot.i18n import format_when

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
        return template.render(
            record=record, words=words, title=title, when=when, signatures=signatures, lang=locale
        )

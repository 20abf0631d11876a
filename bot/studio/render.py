"""A message as each real channel would show it, from the channels' own renderers and limits.

Telegram: text parts (4096 UTF-16 units) and an inline keyboard, one button per row, labels cut
at 60 characters. WhatsApp: up to 3 reply buttons (titles of 20 characters at most), else a
list of up to 10 rows (titles of 24, descriptions of 72), else numbered lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.messages import Outbound
from bot.transports import telegram, whatsapp
from bot.transports.outbox import parse_button, parse_choice


@dataclass(frozen=True, slots=True)
class Button:
    """What a person can press: `index` is the choice's number and `prompt` the key of its
    prompt, as the channel carries them."""

    index: int
    label: str
    description: str = ""
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class Shown:
    """One message drawn the way one channel shows it."""

    style: str  # "telegram" | "whatsapp"
    parts: tuple[str, ...]
    buttons: tuple[Button, ...] = ()
    kind: str = "text"  # "keyboard" | "buttons" | "list" | "text"
    list_button: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"style": self.style, "parts": list(self.parts), "kind": self.kind,
                "list_button": self.list_button,
                "buttons": [{"index": b.index, "label": b.label, "description": b.description,
                             "prompt": b.prompt} for b in self.buttons]}


@dataclass(frozen=True, slots=True)
class Rendered:
    telegram: Shown
    whatsapp: Shown
    choices: tuple[str, ...] = field(default=())
    prompt: str = ""  # the key of the prompt its buttons belong to


def as_telegram(out: Outbound) -> Shown:
    parts = tuple(telegram.render(out.text, out.choices))
    markup = telegram.keyboard(out.choices, out.prompt)
    buttons: list[Button] = []
    if markup is not None:
        for row in markup.inline_keyboard:
            for key in row:
                button = parse_button(key.callback_data)
                if button is not None:
                    buttons.append(Button(button[0], key.text, prompt=button[1] or ""))
    return Shown("telegram", parts, tuple(buttons), "keyboard" if buttons else "text")


def as_whatsapp(out: Outbound, list_button: str) -> Shown:
    payloads = whatsapp.render(out, "studio", list_button)
    parts: list[str] = []
    buttons: list[Button] = []
    kind, opener = "text", ""
    for payload in payloads:
        if payload["type"] == "text":
            parts.append(str(payload["text"]["body"]))
            continue
        interactive = payload["interactive"]
        parts.append(str(interactive["body"]["text"]))
        if interactive["type"] == "button":
            kind = "buttons"
            for item in interactive["action"]["buttons"]:
                reply = item["reply"]
                buttons.append(Button(parse_choice(reply["id"]) or 0, str(reply["title"]),
                                      prompt=out.prompt))
        else:
            kind, opener = "list", str(interactive["action"]["button"])
            for section in interactive["action"]["sections"]:
                for row in section["rows"]:
                    buttons.append(Button(parse_choice(row["id"]) or 0, str(row["title"]),
                                          str(row.get("description", "")), out.prompt))
    return Shown("whatsapp", tuple(parts), tuple(buttons), kind, opener)


def render(out: Outbound, list_button: str) -> Rendered:
    return Rendered(as_telegram(out), as_whatsapp(out, list_button), out.choices, out.prompt)

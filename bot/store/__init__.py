"""Persistence behind a small protocol: the embedded TinyDB store today, a server database later."""

from bot.store.model import JournalEntry, PersonData, SharedData
from bot.store.protocol import Store
from bot.store.tinystore import TinyStore

__all__ = ["JournalEntry", "PersonData", "SharedData", "Store", "TinyStore"]

"""Languages: gettext catalogs per locale, chosen per person through a context variable.

The French text of the flows is the message id; `locales/<lang>/LC_MESSAGES/messages.po`
translates it. `install()` is never used: each message is rendered inside `Catalogs.use()`.
"""

from bot.i18n.catalogs import Catalogs, current_locale, gettext, join_words, ngettext
from bot.i18n.dates import format_when

__all__ = ["Catalogs", "current_locale", "format_when", "gettext", "join_words", "ngettext"]

"""The catalogs: `.mo` used only when it is at least as new as its `.po`, locale resolution
(`en_GB`, `en-US`, unknown), the per-message context variable, and locale names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from bot.i18n import Catalogs, current_locale, gettext
from bot.i18n.catalogs import SOURCE_LOCALE, valid_locale


def write_catalog(root: Path, lang: str, messages: dict[str, str], *, mo: bool = False,
                  fuzzy: frozenset[str] = frozenset()) -> Path:
    catalog = Catalog(locale=lang)
    for msgid, msgstr in messages.items():
        flags = ("fuzzy",) if msgid in fuzzy else ()
        catalog.add(msgid, msgstr, flags=flags)
    folder = root / lang / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("messages.mo" if mo else "messages.po")
    with path.open("wb") as handle:
        (write_mo if mo else write_po)(handle, catalog)
    return path


def set_mtime(path: Path, seconds: float) -> None:
    os.utime(path, (seconds, seconds))


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    root = tmp_path / "locales"
    write_catalog(root, "en", {"Bonjour": "Hello (po)", "Merci": "Thanks"},
                  fuzzy=frozenset({"Merci"}))
    write_catalog(root, "fr", {"Bonjour": "Salut (should never be used)"})
    return root


def test_a_po_without_mo_is_compiled_in_memory_without_fuzzy_entries(locales: Path) -> None:
    catalogs = Catalogs(locales)
    assert not (locales / "en" / "LC_MESSAGES" / "messages.mo").exists()
    assert catalogs.translations("en").gettext("Bonjour") == "Hello (po)"
    # a fuzzy translation is not trusted: the French source is shown instead
    assert catalogs.translations("en").gettext("Merci") == "Merci"
    # French is the source language: its own catalog is never loaded
    assert catalogs.translations("fr").gettext("Bonjour") == "Bonjour"
    assert catalogs.locales == ["en", "fr"]


def test_a_newer_mo_is_used_and_an_older_one_is_ignored(locales: Path) -> None:
    po = locales / "en" / "LC_MESSAGES" / "messages.po"
    mo = write_catalog(locales, "en", {"Bonjour": "Hello (mo)"}, mo=True)
    set_mtime(po, 1_000_000)
    set_mtime(mo, 2_000_000)
    assert Catalogs(locales).translations("en").gettext("Bonjour") == "Hello (mo)"
    set_mtime(mo, 1_000_000)  # as new as the .po: still used
    assert Catalogs(locales).translations("en").gettext("Bonjour") == "Hello (mo)"
    set_mtime(po, 3_000_000)  # the .po was edited since: the stale .mo is not used
    assert Catalogs(locales).translations("en").gettext("Bonjour") == "Hello (po)"


def test_resolve_picks_the_best_available_locale(locales: Path) -> None:
    catalogs = Catalogs(locales, default="en")
    assert catalogs.resolve("en") == "en"
    assert catalogs.resolve("en_GB") == "en"
    assert catalogs.resolve("en-US") == "en"
    assert catalogs.resolve("fr_CA") == "fr"
    assert catalogs.resolve("de") == "en"  # unknown: the deployment's default
    assert catalogs.resolve(None) == "en"
    assert catalogs.resolve("") == "en"
    assert catalogs.translations("en_GB").gettext("Bonjour") == "Hello (po)"


def test_resolve_falls_back_to_the_source_language(locales: Path) -> None:
    # a default that has no catalog either: the source language, French
    catalogs = Catalogs(locales, default="de")
    assert catalogs.resolve("it") == SOURCE_LOCALE == "fr"
    assert catalogs.resolve(None) == "fr"


def test_no_locales_directory_means_french_only(tmp_path: Path) -> None:
    catalogs = Catalogs(tmp_path / "nowhere", default="en")
    assert catalogs.locales == ["fr"]
    assert catalogs.resolve("en") == "fr"
    with catalogs.use("en") as chosen:
        assert chosen == "fr"
        assert gettext("Bonjour") == "Bonjour"


def test_use_sets_the_locale_for_the_block_only(locales: Path) -> None:
    catalogs = Catalogs(locales)
    assert current_locale() == "fr" and gettext("Bonjour") == "Bonjour"
    with catalogs.use("en_GB") as chosen:
        assert chosen == "en"
        assert current_locale() == "en"
        assert gettext("Bonjour") == "Hello (po)"
        assert gettext("not in the catalog") == "not in the catalog"
        with catalogs.use("fr"):
            assert current_locale() == "fr" and gettext("Bonjour") == "Bonjour"
        assert gettext("Bonjour") == "Hello (po)"
    assert current_locale() == "fr" and gettext("Bonjour") == "Bonjour"


def test_use_restores_the_locale_after_an_error(locales: Path) -> None:
    catalogs = Catalogs(locales)
    with pytest.raises(RuntimeError), catalogs.use("en"):
        raise RuntimeError("boom")
    assert current_locale() == "fr"


@pytest.mark.parametrize("name", ["fr", "en", "en_GB", "pt_BR", "de"])
def test_valid_locales(name: str) -> None:
    assert valid_locale(name)


@pytest.mark.parametrize("name", ["xx", "klingon", "", "en_ZZ_", "12"])
def test_invalid_locales(name: str) -> None:
    assert not valid_locale(name)

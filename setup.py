"""Build hook: the wheel carries the shipped flows, stories, catalogs and starting config.

They live at the top of the checkout (trainers and translators edit them there); the wheel
gets a copy under `bot/shipped/`, with the gettext catalogs compiled to `.mo` here, at build
time (binaries are never committed). An editable install reads the checkout instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("flows", "stories", "config.yaml")


def ship(target: Path) -> None:
    """Copy the shipped files to `target` and compile every catalog next to its `.po`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    for po in sorted((ROOT / "locales").glob("*/LC_MESSAGES/*.po")):
        out = target / po.relative_to(ROOT)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(po, out)
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        with out.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
    # Installers do not keep file times: this marker tells `Catalogs` that the `.mo` files
    # are the `.po` files compiled (bot.i18n.catalogs.BUILT_MARKER).
    (target / "locales" / ".compiled").write_text("built with the wheel\n", encoding="utf-8")
    (target / "README").write_text(
        "Copied from the checkout when the wheel was built (setup.py): edit a copy made by\n"
        "`mentorbot init DIR`, not these files.\n",
        encoding="utf-8",
    )


class BuildWithShipped(build_py):
    """`build_py`, plus the shipped data under `bot/shipped/` (not for editable installs)."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            ship(Path(self.build_lib) / "bot" / "shipped")


setup(cmdclass={"build_py": BuildWithShipped})

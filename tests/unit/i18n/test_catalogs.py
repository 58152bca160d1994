"""The translation catalogs are complete, consistent with the code, and compiled.

Fails when a marked string is missing from a catalog (run `make messages`), when a
catalog entry is untranslated or fuzzy, when a translation drops or invents a
placeholder or an HTML tag, and when a committed .mo file is older than its .po.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

from chat.management.commands.makemessages import LOCALES

ROOT = Path(__file__).resolve().parents[3]
DOMAINS = ["django", "djangojs"]
CATALOGS = [(locale, domain) for locale in LOCALES for domain in DOMAINS]
# Printf-style (gettext) and str.format-style (format_html) placeholders.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
# What `make messages` reads: the shipped code and templates (chat/management/commands/makemessages.py
# ignores the rest).
SOURCES = ["accounts", "chat", "config", "templates", "static/js", "manage.py"]


def catalog(locale: str, domain: str, root: Path = ROOT) -> polib.POFile:
    return polib.pofile(str(root / "locale" / locale / "LC_MESSAGES" / f"{domain}.po"))


def keys(po: polib.POFile) -> set[tuple[str | None, str, str]]:
    return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in po}


def translations(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], polib.POFile]:
    """Run `make messages`' extraction on a copy of the sources, and read what it wrote."""
    copy = tmp_path_factory.mktemp("sources")
    for source in SOURCES:
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, copy / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, copy / source)
    shutil.copytree(ROOT / "locale", copy / "locale")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(copy)
        from django.conf import settings

        patch.setattr(settings, "LOCALE_PATHS", [copy / "locale"])
        for domain in DOMAINS:
            call_command("makemessages", domain=domain, verbosity=0)
    return {(locale, domain): catalog(locale, domain, copy) for locale, domain in CATALOGS}


@pytest.mark.parametrize(("locale", "domain"), CATALOGS)
def test_the_catalog_holds_exactly_the_marked_strings(extracted, locale, domain):
    committed, fresh = keys(catalog(locale, domain)), keys(extracted[locale, domain])
    assert not fresh - committed, f"marked but not in {locale}/{domain}.po: run `make messages`"
    assert not committed - fresh, (
        f"in {locale}/{domain}.po but no longer marked: run `make messages`"
    )


@pytest.mark.parametrize(("locale", "domain"), CATALOGS)
def test_every_entry_is_translated(locale, domain):
    po = catalog(locale, domain)
    assert not po.metadata_is_fuzzy, f"{locale}/{domain}.po: the header is still marked fuzzy"
    untranslated = [e.msgid for e in po if not all(translations(e))]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated in {locale}/{domain}.po: {untranslated}"
    assert not fuzzy, f"fuzzy in {locale}/{domain}.po: {fuzzy}"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS)
def test_translations_keep_placeholders_and_tags(locale, domain):
    wrong = []
    for entry in catalog(locale, domain):
        for text in filter(None, translations(entry)):
            for pattern in (PLACEHOLDER, TAG):
                source = set(pattern.findall(entry.msgid)) | set(
                    pattern.findall(entry.msgid_plural or "")
                )
                if set(pattern.findall(text)) != source:
                    wrong.append((entry.msgid, text))
    assert not wrong, f"{locale}/{domain}.po changes placeholders or tags: {wrong}"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS)
def test_the_compiled_catalog_matches_its_source(locale, domain):
    po = catalog(locale, domain)
    mo = polib.mofile(str(ROOT / "locale" / locale / "LC_MESSAGES" / f"{domain}.mo"))
    compiled = {(e.msgctxt, e.msgid): translations(e) for e in mo if e.msgid}
    source = {
        (e.msgctxt, e.msgid): translations(e)
        for e in po
        if "fuzzy" not in e.flags and all(translations(e))
    }
    assert compiled == source, f"{locale}/{domain}.mo is stale: run `make messages`"

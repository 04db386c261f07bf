"""Every message has its Russian translation (the school's default language)."""

import gettext
import re

from django.conf import settings

PO = settings.BASE_DIR / "locale" / "ru" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_po_has_no_untranslated_or_fuzzy_entries():
    text = PO.read_text(encoding="utf-8")
    body = text.split("\n\n", 1)[1]  # past the header entry
    empty = re.findall(r'^msgstr(?:\[\d\])? ""\n(?!")', body, flags=re.MULTILINE)
    assert empty == []
    assert "#, fuzzy" not in body


def test_compiled_catalogue_matches_the_po():
    text = PO.read_text(encoding="utf-8")
    po_count = len(re.findall(r"^msgid ", text, flags=re.MULTILINE)) - 1  # minus the header
    with MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    mo_count = len([key for key in catalogue._catalog if key and not isinstance(key, tuple)])
    mo_count += len({key[0] for key in catalogue._catalog if isinstance(key, tuple)})
    assert mo_count == po_count, "run `make messages` to recompile locale/ru"

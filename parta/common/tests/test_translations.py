"""Every message has its Russian translation (the school's default language)."""

import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

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


def _entries(text: str) -> list[dict[str, str]]:
    """The catalogue's entries as {"msgid": ..., "msgid_plural": ..., "msgstr[0]": ...}."""
    entries = []
    for block in text.split("\n\n")[1:]:
        entry: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                entry[key] = match.group(2)
            elif line.startswith('"') and key:
                entry[key] += line[1:-1]
        if entry:
            entries.append(entry)
    return entries


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{[\w:]+\}")


def test_every_plural_has_all_four_russian_forms_with_the_same_placeholders():
    # Django's Russian plural rule has four forms: 1 / 2-4 / 5-20 / fractions.
    entries = _entries(PO.read_text(encoding="utf-8"))
    plurals = [entry for entry in entries if "msgid_plural" in entry]
    assert len(plurals) >= 20
    problems = []
    for entry in plurals:
        wanted = sorted(PLACEHOLDER.findall(entry["msgid_plural"]))
        for form in range(4):
            text = entry.get(f"msgstr[{form}]", "")
            if not text:
                problems.append((entry["msgid"], form, "missing"))
            elif sorted(PLACEHOLDER.findall(text)) != wanted:
                problems.append((entry["msgid"], form, text))
    assert problems == []


def test_translations_keep_the_placeholders_of_their_message():
    entries = _entries(PO.read_text(encoding="utf-8"))
    wrong = [
        (entry["msgid"], entry["msgstr"])
        for entry in entries
        if "msgstr" in entry
        and sorted(PLACEHOLDER.findall(entry["msgid"]))
        != sorted(PLACEHOLDER.findall(entry["msgstr"]))
    ]
    assert wrong == []


def test_every_translatable_string_in_the_source_is_in_the_catalogue(tmp_path, settings):
    """A new string (a plural above all) without its Russian fails here, not in front of a user.

    makemessages runs over the project into a copy of the catalogue; any entry it adds, or
    matches only fuzzily, lacks a translation.
    """
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext is not installed")
    copy = tmp_path / "locale" / "ru" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    shutil.copy(PO, copy / "django.po")
    # makemessages writes to the locale folder nearest each file, so it walks a tree of links
    # beside the copy: the real catalogue is never touched.
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("parta", "config"):
        (tree / name).symlink_to(settings.BASE_DIR / name)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        call_command(
            "makemessages",
            locale=["ru"],
            ignore_patterns=["*/tests/*", "*/migrations/*"],
            symlinks=True,
            no_obsolete=True,
            verbosity=0,
        )
    finally:
        os.chdir(cwd)
    refreshed = (copy / "django.po").read_text(encoding="utf-8")
    body = refreshed.split("\n\n", 1)[1]
    missing = [
        entry["msgid"]
        for entry in _entries(refreshed)
        if any(value == "" for key, value in entry.items() if key.startswith("msgstr"))
    ]
    assert missing == [], "translate these in locale/ru (make messages)"
    assert "#, fuzzy" not in body, "a new string was matched fuzzily: translate it"


# A gettext call inside an f-string's braces: xgettext does not look there, so the string
# never reaches the catalogue and stays English for every reader.
GETTEXT_IN_FSTRING = re.compile(r"""\bf(["'])[^\n]*?\{\s*(?:_|gettext|ngettext|pgettext)\(""")


def test_no_translatable_string_hides_inside_an_f_string():
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}"
        for root in ("parta", "config")
        for path in sorted((settings.BASE_DIR / root).rglob("*.py"))
        if "/tests/" not in str(path) and "/migrations/" not in str(path)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if GETTEXT_IN_FSTRING.search(line)
    ]
    assert found == [], "move the _() call out of the f-string: xgettext cannot see it"


@pytest.mark.parametrize(
    ("count", "form"),
    [(1, "день"), (2, "дня"), (4, "дня"), (5, "дней"), (11, "дней"), (21, "день"), (22, "дня")],
)
def test_russian_plural_forms_follow_the_number(count, form):
    with translation.override("ru"):
        text = translation.ngettext("Access for %(n)s day", "Access for %(n)s days", count)
    assert text % {"n": count} == f"Доступ на {count} {form}"


def test_rest_framework_messages_are_all_russian():
    """Every message REST framework can put in an error body reads in Russian."""
    import rest_framework

    root = Path(rest_framework.__file__).parent
    literal = re.compile(r"""_\(\s*((?:'[^']*'\s*|"[^"]*"\s*)+)\)""")
    messages = set()
    for name in ("fields.py", "relations.py", "serializers.py", "exceptions.py", "validators.py"):
        source = (root / name).read_text(encoding="utf-8")
        for match in literal.finditer(source):
            parts = re.findall(r"""'([^']*)'|"([^"]*)\"""", match.group(1))
            messages.add("".join(a or b for a, b in parts))
    assert len(messages) > 50
    with translation.override("ru"):
        english = sorted(
            message
            for message in messages
            if translation.gettext(message) == message
            and translation.ngettext(message, message, 5) == message
        )
    assert english == []


def test_api_error_reads_in_russian(client, django_user_model):
    # REST framework's own catalogue has no Russian for this one.
    user = django_user_model.objects.create_user(email="api-ru@example.com", full_name="Вера")
    client.force_login(user)
    response = client.post(
        "/api/v1/billing/orders/",
        {"items": [1], "pay_from_balance": "maybe"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["pay_from_balance"] == [
        "Нужно значение «да» или «нет» (true или false)."
    ]


def test_admin_lists_need_no_declension(admin_client, django_user_model):
    for index in range(3):
        django_user_model.objects.create_user(email=f"u{index}@example.com", full_name="У")
    with translation.override("ru"):
        page = admin_client.get("/admin/accounts/user/", HTTP_ACCEPT_LANGUAGE="ru")
    html = page.content.decode()
    count = django_user_model.objects.count()
    assert "<h1>Пользователи</h1>" in html
    assert f"Пользователи: {count}" in html
    assert "Выберите пользователь" not in html
    assert "Удалить выбранное (пользователи)" in html


def test_every_model_and_field_is_named_in_russian():
    """The admin shows these names: «hold», «order line» or «created at» in a Russian page
    mean a field without a translatable verbose name."""
    from django.apps import apps

    cyrillic = re.compile("[а-яё]", re.IGNORECASE)
    english = []
    with translation.override("ru"):
        for model in apps.get_models():
            if not model.__module__.startswith("parta."):
                continue
            opts = model._meta
            for name in (opts.verbose_name, opts.verbose_name_plural):
                if not cyrillic.search(str(name)):
                    english.append(opts.label)
            for field in opts.get_fields():
                if field.auto_created or field.name in {"id", "email", "password"}:
                    continue
                if not cyrillic.search(str(field.verbose_name)):
                    english.append(f"{opts.label}.{field.name}")
    assert english == []

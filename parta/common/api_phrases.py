"""REST framework messages that its own Russian catalogue leaves in English.

An API client that asks in Russian gets every validation message in Russian; these are the ones
REST framework ships untranslated («Must be a valid UUID.»). Our catalogue translates them, and
listing them here keeps `make messages` from dropping them as unused. `test_translations`
fails when a REST framework message has no Russian.
"""

from django.utils.translation import gettext_noop

API_PHRASES = (
    gettext_noop("A valid biginteger is required."),
    gettext_noop("Datetime value out of range."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop(
        'Enter a valid "slug" consisting of Unicode letters, numbers, underscores, or hyphens.'
    ),
    gettext_noop("Integer value too large to convert to float"),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop("Invalid input."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Not a valid string."),
    gettext_noop("Surrogate characters are not allowed: U+{code_point:X}."),
    gettext_noop("This dictionary may not be empty."),
    gettext_noop("A page number within the paginated result set."),
    gettext_noop("Number of results to return per page."),
    gettext_noop("The initial index from which to return the results."),
    gettext_noop("The pagination cursor value."),
    gettext_noop("A search term."),
    gettext_noop("Which field to use when ordering the results."),
    # REST framework translates both halves of its throttle message before choosing one by
    # English rules, so the Russian takes a form that needs no plural.
    gettext_noop("Expected available in {wait} second."),
    gettext_noop("Expected available in {wait} seconds."),
)

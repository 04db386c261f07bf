"""Django REST framework and the OpenAPI schema."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated request then gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "parta.common.schema.PartaAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "parta.common.apis.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Parta API",
    "DESCRIPTION": (
        "The REST API of Parta, an online school platform. The site uses session "
        "authentication; services and the bot send `Authorization: Token <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags (the groups in /api/docs/) come from the first path part after this.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # /api/docs/ works offline: Swagger UI from our static files (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The client card's message goes by email or Telegram only (not the site's list).
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "parta.notifications.channels.base.Channel",
        "CrmMessageChannelEnum": ["email", "telegram"],
    },
}

"""The FAQ in the REST API: every published question by category, and the search.

Public (AllowAny): the same text as /support/, which anyone may read, including a
visitor who has not signed up yet (admission documents and payments are asked about
before buying); nothing in it is personal."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.common.markdown import render_markdown
from parta.faq.selectors import QUERY_MAX_LENGTH, SEARCH_LIMIT, faq_by_category, faq_search


class FaqCategoryRef(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class FaqEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    question = serializers.CharField()
    answer = serializers.CharField(help_text="The Markdown source.")
    answer_html = serializers.CharField(help_text="The answer as safe HTML.")


class FaqCategoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    entries = FaqEntryOut(many=True)


class FaqOut(serializers.Serializer):
    categories = FaqCategoryOut(many=True)


class FaqSearchEntryOut(FaqEntryOut):
    category = FaqCategoryRef()


class FaqSearchOut(serializers.Serializer):
    query = serializers.CharField()
    words = serializers.ListField(
        child=serializers.CharField(), help_text="The words searched for, case-folded."
    )
    all_words = serializers.BooleanField(
        help_text="False when no entry has every word and these have some of them."
    )
    results = FaqSearchEntryOut(many=True, help_text="Best first.")


class FaqSearchIn(serializers.Serializer):
    q = serializers.CharField(max_length=QUERY_MAX_LENGTH, help_text="The words to find.")
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=SEARCH_LIMIT, default=20
    )


def _entry(entry) -> dict:
    return {
        "id": entry.pk,
        "question": entry.question,
        "answer": entry.answer,
        "answer_html": str(render_markdown(entry.answer)),
    }


class FaqListApi(APIView):
    """Every published question, by category, in the order of /support/. Two queries."""

    permission_classes = [AllowAny]

    @extend_schema(responses=FaqOut, operation_id="faq_list")
    def get(self, request):
        categories = [
            {
                "id": category.pk,
                "title": category.title,
                "entries": [_entry(entry) for entry in category.entries_shown],
            }
            for category in faq_by_category()
        ]
        return Response(FaqOut({"categories": categories}).data)


class FaqSearchApi(APIView):
    """Published questions with every word of `q`, best first (PostgreSQL: full-text
    search, Russian word forms found; SQLite: a case-insensitive match); when none has
    them all, those with some (`all_words` false)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="The words to find."),
            OpenApiParameter("limit", int, required=False, description="1 to 50, 20 by default."),
        ],
        responses=FaqSearchOut,
        operation_id="faq_search",
    )
    def get(self, request):
        data = FaqSearchIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        result = faq_search(query=data.validated_data["q"], limit=data.validated_data["limit"])
        body = {
            "query": result.query,
            "words": result.words,
            "all_words": result.all_words,
            "results": [
                {**_entry(e), "category": {"id": e.category_id, "title": e.category.title}}
                for e in result.entries
            ],
        }
        return Response(FaqSearchOut(body).data)

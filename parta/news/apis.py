"""News in the REST API: the posts the caller may read, newest first."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.common.errors import NotFound
from parta.common.files import signed_file_url
from parta.common.markdown import render_markdown
from parta.news.selectors import post_get_for, post_queryset_for


class _CourseRef(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class PostOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    audience = serializers.CharField(help_text="all, active or course.")
    course = _CourseRef(allow_null=True, read_only=True, help_text="For audience=course.")
    published_at = serializers.DateTimeField()


class PostDetailOut(PostOut):
    body = serializers.CharField(help_text="The Markdown source.")
    body_html = serializers.CharField(help_text="The text as safe HTML.")
    image_url = serializers.CharField(allow_blank=True, help_text="A short-lived signed link.")


def _post_data(post, *, request=None, full: bool = False) -> dict:
    data = {
        "id": post.pk,
        "title": post.title,
        "audience": post.audience,
        "course": {"id": post.course.pk, "title": post.course.title} if post.course else None,
        "published_at": post.published_at,
    }
    if full:
        data["body"] = post.body
        data["body_html"] = str(render_markdown(post.body))
        data["image_url"] = signed_file_url(file=post.image, request=request) if post.image else ""
    return data


class NewsListApi(ListAPIView):
    """The posts the caller may read (as at /news/), newest first; `limit` and `offset`
    page through them."""

    serializer_class = PostOut
    pagination_class = LimitOffsetPagination

    def get_queryset(self):
        return post_queryset_for(user=self.request.user)

    @extend_schema(operation_id="news_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NewsDetailApi(APIView):
    @extend_schema(responses=PostDetailOut, operation_id="news_retrieve")
    def get(self, request, pk: int):
        post = post_get_for(user=request.user, pk=pk)
        if post is None:
            raise NotFound(_("No such post."))
        return Response(PostDetailOut(_post_data(post, request=request, full=True)).data)

"""News for readers: /news/ and a post's page; the one-click unsubscribe link."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from parta.common.files import signed_file_url
from parta.news.selectors import post_get_for, post_list_for
from parta.news.unsubscribe import UnsubscribeLinkInvalid, unsubscribe_apply, unsubscribe_read


@login_required
@require_GET
def news_list(request):
    page = post_list_for(user=request.user, page=request.GET.get("page"))
    return render(request, "news/list.html", {"page": page})


@login_required
@require_GET
def news_detail(request, pk: int):
    post = post_get_for(user=request.user, pk=pk)
    if post is None:
        raise Http404
    image_url = signed_file_url(file=post.image, request=request) if post.image else ""
    return render(request, "news/detail.html", {"post": post, "image_url": image_url})


# Mail clients POST here without a session or CSRF token (RFC 8058); the signed token
# in the address is what authorises it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        target = (unsubscribe_apply if request.method == "POST" else unsubscribe_read)(token=token)
    except UnsubscribeLinkInvalid as exc:
        return render(request, "news/unsubscribe.html", {"error": exc.message}, status=404)
    return render(
        request,
        "news/unsubscribe.html",
        {"target": target, "done": request.method == "POST"},
    )

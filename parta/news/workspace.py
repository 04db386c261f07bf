"""News in the moderator workspace: write, schedule, publish, watch and cancel a broadcast.

Moderators and staff only (parta.catalog.workspace.workspace_required); dates are in the
school's time zone. Views parse the form and call one service."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.catalog.workspace import _new_file, _put_errors, workspace_required
from parta.common.errors import ApplicationError
from parta.news import services
from parta.news.forms import PostForm
from parta.news.models import Post
from parta.news.selectors import broadcast_progress, workspace_post_list

TEMPLATES = "news/workspace/"


@workspace_required
@require_GET
def index(request):
    page = Paginator(workspace_post_list(), 30).get_page(request.GET.get("page"))
    return render(request, TEMPLATES + "index.html", {"page": page})


def _save(request, form: PostForm, post: Post | None):
    """Save the form as a draft, then publish it if asked: the post, or None with the
    errors on the form."""
    cleaned = form.cleaned_data
    arguments = {
        "title": cleaned["title"],
        "body": cleaned["body"],
        "audience": cleaned["audience"],
        "course": cleaned["course"],
        "image": _new_file(cleaned["image"]),
    }
    publish = request.POST.get("action") == "publish"
    try:
        with transaction.atomic():
            if post is None:
                post = services.post_create(author=request.user, **arguments)
            else:
                post = services.post_update(
                    post=post,
                    **arguments,
                    remove_image=cleaned["image"] is False,
                    actor=request.user,
                )
            if publish:
                post = services.post_publish(
                    post=post, at=cleaned["publish_at"], actor=request.user
                )
    except ApplicationError as exc:
        _put_errors(form, exc)
        return None
    return post


def _saved_message(request, post: Post) -> None:
    texts = {
        "draft": _("Draft saved."),
        "scheduled": _("The post is scheduled."),
        "sending": _("The post is being sent."),
    }
    messages.success(request, texts.get(post.status, _("Saved.")))


@workspace_required
@require_http_methods(["GET", "POST"])
def create(request):
    if request.method == "POST":
        form = PostForm(request.POST, request.FILES)
        if form.is_valid():
            post = _save(request, form, None)
            if post is not None:
                _saved_message(request, post)
                return redirect("news:workspace-post", post.pk)
    else:
        form = PostForm()
    return render(request, TEMPLATES + "form.html", {"form": form, "post": None})


@workspace_required
@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    post = get_object_or_404(Post, pk=pk)
    if post.status not in services.EDITABLE:
        messages.info(request, _("This post has been sent; it can no longer be edited."))
        return redirect("news:workspace-post", post.pk)
    if request.method == "POST":
        form = PostForm(request.POST, request.FILES, initial={"image": post.image})
        if form.is_valid():
            saved = _save(request, form, post)
            if saved is not None:
                _saved_message(request, saved)
                return redirect("news:workspace-post", saved.pk)
    else:
        form = PostForm(
            initial={
                "title": post.title,
                "body": post.body,
                "image": post.image,
                "audience": post.audience,
                "course": post.course,
                "publish_at": post.publish_at,
            }
        )
    return render(request, TEMPLATES + "form.html", {"form": form, "post": post})


@workspace_required
@require_GET
def detail(request, pk: int):
    post = get_object_or_404(Post.objects.select_related("course", "author"), pk=pk)
    post = services.broadcast_settle(post=post)
    return render(
        request,
        TEMPLATES + "detail.html",
        {"post": post, "progress": broadcast_progress(post=post)},
    )


@workspace_required
@require_GET
def progress(request, pk: int):
    """The progress bar alone, for htmx polling; it stops polling when the broadcast is
    over."""
    post = services.broadcast_settle(post=get_object_or_404(Post, pk=pk))
    return render(
        request,
        TEMPLATES + "_progress.html",
        # The status tag and the buttons beside the title follow the bar (out of band).
        {"post": post, "progress": broadcast_progress(post=post), "oob": True},
    )


@workspace_required
@require_POST
def cancel(request, pk: int):
    post = get_object_or_404(Post, pk=pk)
    try:
        services.post_cancel(post=post, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The broadcast is cancelled; messages not yet sent stay unsent.")
        )
    return redirect("news:workspace-post", post.pk)

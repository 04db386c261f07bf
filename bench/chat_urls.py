"""bench/chat.py's URLs: Parta's, plus a moderator's reply posted over HTTP.

The reply goes through chat's ``message_post`` service when it exists; until it lands,
through the same steps here (the message stored, the thread's state and times updated,
``realtime.message_posted`` on commit), without the notifications.
"""

from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.urls import urlpatterns as bench_urlpatterns
from parta.catalog.workspace import can_use_workspace
from parta.chat import realtime
from parta.chat.models import ChatMessage, Thread, ThreadState

try:
    from parta.chat.services import message_post
except ImportError:
    message_post = None


@transaction.atomic
def _message_post(*, thread: Thread, author, text: str) -> ChatMessage:
    now = timezone.now()
    message = ChatMessage.objects.create(
        thread=thread, author=author, from_staff=True, text=text, created_at=now
    )
    Thread.objects.filter(pk=thread.pk).update(
        state=ThreadState.AWAITING_STUDENT,
        waiting_since=None,
        last_message_at=now,
        last_staff_message_at=now,
        closed_at=None,
    )
    transaction.on_commit(lambda: realtime.message_posted(message))
    return message


@csrf_exempt
@require_POST
def reply(request, thread_id: int):
    if not can_use_workspace(request.user):
        return JsonResponse({"detail": "moderators only", "code": "forbidden"}, status=403)
    thread = get_object_or_404(Thread, pk=thread_id)
    text = request.POST.get("text", "")
    if message_post is not None:
        message = message_post(thread=thread, author=request.user, text=text)
    else:
        message = _message_post(thread=thread, author=request.user, text=text)
    return JsonResponse({"id": message.pk}, status=201)


urlpatterns = [path("bench/chat/threads/<id:thread_id>/reply/", reply), *bench_urlpatterns]

"""Student pages: catalogue, course, lesson, task, test and statistics."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.access.selectors import is_staff_like
from parta.accounts.models import User
from parta.billing.selectors import plans_on_sale
from parta.catalog.models import Course, Lesson, Task, Test
from parta.common.errors import ApplicationError, PermissionDenied
from parta.common.files import signed_file_url
from parta.common.pages import error_page
from parta.groups.selectors import course_fill, membership_current
from parta.learning import hooks, selectors
from parta.learning.embeds import video_embed
from parta.learning.models import TaskProgress
from parta.learning.services import (
    attempt_answer_save,
    attempt_start,
    attempt_submit,
    ensure_topic_open,
    task_answer_submit,
)


def _course_or_404(request, slug: str) -> Course:
    course = selectors.course_get(user=request.user, slug=slug)
    if course is None:
        raise Http404
    return course


@require_GET
def home(request):
    """The school's front page: what it offers and its courses; a signed-in student's
    own courses first."""
    courses = selectors.course_list(user=request.user)
    return render(
        request,
        "common/home.html",
        {
            "courses": courses,
            "my_courses": selectors.my_courses(user=request.user),
            "owned": selectors.owned_course_ids(user=request.user),
        },
    )


@require_GET
def catalogue(request):
    courses = selectors.course_list(user=request.user)
    return render(
        request,
        "learning/catalogue.html",
        {
            "courses": courses,
            "owned": selectors.owned_course_ids(user=request.user),
            "plans": plans_on_sale(),
        },
    )


@login_required
@require_GET
def my_courses(request):
    """The student's courses with progress and the next lesson (the profile loads it)."""
    template = "learning/_my_courses.html" if request.htmx else "learning/my_courses.html"
    return render(request, template, {"my_courses": selectors.my_courses(user=request.user)})


def _url_maker(name: str, slug: str):
    """reverse() once per page, not once per item: big courses list a thousand tasks."""
    template = reverse(name, args=[slug, 987654321])
    return lambda pk: template.replace("987654321", str(pk))


@require_GET
def course_page(request, slug: str):
    course = _course_or_404(request, slug)
    view = selectors.course_view(user=request.user, course=course)
    lesson_url = _url_maker("learning:lesson", course.slug)
    task_url = _url_maker("learning:task", course.slug)
    test_url = _url_maker("learning:test", course.slug)
    points = {}
    for topic in view.topics:
        for lesson in topic.lessons:
            lesson.url = lesson_url(lesson.pk)
        for lesson in topic.free_lessons:
            lesson.url = lesson_url(lesson.pk)
        for task in topic.tasks:
            task.url = task_url(task.pk)
            task.solved = task.id in topic.solved_task_ids
            if task.points not in points:
                points[task.points] = ngettext("%(n)d point", "%(n)d points", task.points) % {
                    "n": task.points
                }
            task.points_label = points[task.points]
        for test in topic.tests:
            test.url = test_url(test.pk)
    my_group = None
    if view.access.allowed and not view.access.staff:
        my_group = membership_current(student=request.user, course=course)
    return render(
        request, "learning/course.html", {"view": view, "course": course, "my_group": my_group}
    )


@require_GET
def lesson_page(request, slug: str, pk: int):
    course = _course_or_404(request, slug)
    lesson = get_object_or_404(Lesson.objects.select_related("topic"), pk=pk, topic__course=course)
    if not lesson.is_free_preview:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_request_login_code')}?next={request.path}")
        try:
            ensure_topic_open(user=request.user, topic=lesson.topic)
        except ApplicationError as exc:
            return error_page(request, exc)
    video_url = signed_file_url(file=lesson.video, request=request) if lesson.video else ""
    embed = None if video_url else video_embed(lesson.video_url)
    return render(
        request,
        "learning/lesson.html",
        {"course": course, "lesson": lesson, "video_url": video_url, "embed": embed},
    )


def _typed(post) -> dict:
    """What the student sent, to keep in the form after a wrong or unreadable answer."""
    if post is None:
        return {}
    return {
        "answer": (post.get("answer") or "")[:500],
        "choices": set(post.getlist("choice") + post.getlist("choices")),
    }


def _task_context(
    request, course: Course, task: Task, *, result=None, error: str = "", typed=None
):
    staff = is_staff_like(request.user)
    progress = TaskProgress.objects.filter(user=request.user, task=task).first()
    choices = list(task.choices.all())
    accepted = None
    if progress is not None and progress.is_solved:
        accepted = selectors.accepted_answer(user=request.user, task=task, choices=choices)
    for choice in choices:
        choice.typed = str(choice.id) in (typed or {}).get("choices", ())
    return {
        "course": course,
        "task": task,
        "choices": choices,
        "progress": progress,
        "result": result,
        "error": error,
        "typed": typed or {},
        "accepted": accepted,
        "client_key": uuid.uuid4(),
        "show_solution": selectors.solution_visible(task=task, progress=progress, staff=staff),
        # What other apps add under the answer (chat: "Ask a moderator").
        "task_panels": hooks.task_panels(user=request.user, task=task, progress=progress),
    }


def _client_key(raw: str) -> str | None:
    """The page's hidden key; anything that is not a short printable string is ignored
    (the answer is then simply recorded without replay protection)."""
    if 1 <= len(raw) <= 64 and raw.isascii() and raw.isprintable():
        return raw
    return None


@login_required
@require_http_methods(["GET", "POST"])
def task_page(request, slug: str, pk: int):
    course = _course_or_404(request, slug)
    task = get_object_or_404(
        Task.objects.select_related("topic"), pk=pk, topic__course=course, test__isnull=True
    )
    try:
        ensure_topic_open(user=request.user, topic=task.topic)
    except ApplicationError as exc:
        if request.htmx and request.method == "POST":
            return _answer_error(request, course, task, exc)
        return error_page(request, exc)

    result, error, status, typed = None, "", 200, None
    if request.method == "POST":
        try:
            result = task_answer_submit(
                user=request.user,
                task=task,
                data=request.POST,
                client_key=_client_key(request.POST.get("client_key", "")),
            )
        except PermissionDenied as exc:
            if request.htmx:
                return _answer_error(request, course, task, exc)
            return error_page(request, exc)
        except ApplicationError as exc:  # unreadable answer, or a task of a test
            error, status = exc.message, exc.status_code
        if error or (result is not None and not result.is_correct):
            typed = _typed(request.POST)
    context = _task_context(request, course, task, result=result, error=error, typed=typed)
    template = "learning/_answer_block.html" if request.htmx else "learning/task.html"
    return render(request, template, context, status=status)


def _answer_error(request, course: Course, task: Task, exc: ApplicationError):
    """An htmx answer refused as a whole (access ended, topic closed): said in place."""
    context = _task_context(request, course, task, error=exc.message)
    context["refused"] = True
    return render(request, "learning/_answer_block.html", context, status=exc.status_code)


# --- Tests -------------------------------------------------------------------------


def _prefixed(post, prefix: str) -> dict:
    """The answer fields of one test task: "t12-answer" -> "answer" and so on."""
    return {
        key[len(prefix) :]: post.getlist(key) if key.endswith("choices") else post.get(key)
        for key in post
        if key.startswith(prefix)
    }


def _test_or_404(course: Course, pk: int) -> Test:
    return get_object_or_404(Test.objects.select_related("topic"), pk=pk, topic__course=course)


@login_required
@require_GET
def test_page(request, slug: str, pk: int):
    course = _course_or_404(request, slug)
    test = _test_or_404(course, pk)
    try:
        ensure_topic_open(user=request.user, topic=test.topic)
    except ApplicationError as exc:
        return error_page(request, exc)
    attempt = selectors.attempt_get(user=request.user, test=test)
    late_closed = False
    if attempt and not attempt.is_submitted and timezone.now() > attempt.deadline:
        # The timer ran out with the page closed: score what was saved in time.
        attempt = attempt_submit(attempt=attempt).attempt
        late_closed = True
    tasks = list(test.tasks.prefetch_related("choices").order_by("position", "id"))
    answers = {}
    if attempt:
        answers = {a.task_id: a for a in attempt.answers.all()}
    staff = is_staff_like(request.user)
    items = []
    for task in tasks:
        choices = list(task.choices.all())
        saved = answers.get(task.id)
        show_key = selectors.attempt_key_visible(task=task, attempt=attempt, staff=staff)
        items.append(
            {
                "task": task,
                "choices": choices,
                "saved": saved,
                "saved_text": selectors.answer_text(
                    answer=saved.answer if saved else None, choices=choices
                ),
                "correct_text": selectors.correct_answer_text(task=task, choices=choices)
                if show_key and attempt and attempt.is_submitted
                else "",
                "show_solution": selectors.attempt_solution_visible(
                    task=task, attempt=attempt, staff=staff
                ),
            }
        )
    return render(
        request,
        "learning/test.html",
        {
            "course": course,
            "test": test,
            "attempt": attempt,
            "items": items,
            "late_closed": late_closed,
            "remaining": max(0, int((attempt.deadline - timezone.now()).total_seconds()))
            if attempt and not attempt.is_submitted
            else 0,
        },
    )


@login_required
@require_POST
def test_start(request, slug: str, pk: int):
    course = _course_or_404(request, slug)
    test = _test_or_404(course, pk)
    try:
        attempt_start(user=request.user, test=test)
    except ApplicationError as exc:
        return error_page(request, exc)
    return redirect("learning:test", slug=course.slug, pk=test.pk)


@login_required
@require_POST
def test_answer(request, slug: str, pk: int, task_pk: int):
    """htmx autosave of one answer while the attempt runs."""
    course = _course_or_404(request, slug)
    test = _test_or_404(course, pk)
    attempt = selectors.attempt_get(user=request.user, test=test)
    task = get_object_or_404(Task, pk=task_pk, test=test)
    if attempt is None:
        return render(
            request, "learning/_saved.html", {"error": _("Start the test first.")}, status=409
        )
    try:
        attempt_answer_save(
            attempt=attempt, task=task, data=_prefixed(request.POST, f"t{task.id}-")
        )
    except ApplicationError as exc:
        return render(
            request, "learning/_saved.html", {"error": exc.message}, status=exc.status_code
        )
    return render(request, "learning/_saved.html", {"saved_at": timezone.now()})


@login_required
@require_POST
def test_submit(request, slug: str, pk: int):
    course = _course_or_404(request, slug)
    test = _test_or_404(course, pk)
    attempt = selectors.attempt_get(user=request.user, test=test)
    if attempt is None:
        return error_page(request, ApplicationError(_("Start the test first.")))
    answers = {}
    for task in test.tasks.all():
        data = _prefixed(request.POST, f"t{task.id}-")
        if data:
            answers[task.id] = data
    try:
        result = attempt_submit(attempt=attempt, answers=answers)
    except PermissionDenied as exc:  # access ended (refund, expiry, freeze) mid-test
        return error_page(request, exc)
    if result.late:
        messages.warning(
            request,
            _("Time was up: answers sent after the deadline were not counted."),
        )
    elif result.already_submitted:
        messages.info(request, _("This test had already been submitted."))
    return redirect("learning:test", slug=course.slug, pk=test.pk)


# --- Statistics --------------------------------------------------------------------


def _stats_for(user: User, course_slug: str | None):
    courses = selectors.student_courses(user=user)
    current = None
    if course_slug:
        current = next((c for c in courses if c.slug == course_slug), None)
    current = current or (courses[0] if courses else None)
    stats = selectors.course_stats(user=user, course=current) if current else None
    return courses, current, stats


@login_required
@require_GET
def my_stats(request):
    courses, current, stats = _stats_for(request.user, request.GET.get("course"))
    template = "learning/_stats_panel.html" if request.htmx else "learning/stats.html"
    return render(
        request,
        template,
        {"student": request.user, "courses": courses, "current": current, "stats": stats},
    )


STUDENTS_PER_PAGE = 30


@login_required
@require_GET
def course_figures(request, slug: str):
    """The course as a whole (students, activity, topics, hardest tasks): moderators
    and staff only."""
    if not is_staff_like(request.user):
        return error_page(request, PermissionDenied(_("Only moderators see course figures.")))
    course = get_object_or_404(Course, slug=slug)
    figures = selectors.course_figures(course=course)
    context = {
        "course": course,
        "figures": figures,
        "groups": course_fill(course=course),
        "min_students": selectors.HARD_TASK_MIN_STUDENTS,
    }
    return render(request, "learning/course_figures.html", context)


@login_required
@require_GET
def students(request):
    """Moderators find a student (name, email or phone) and open their statistics."""
    if not is_staff_like(request.user):
        return error_page(
            request, PermissionDenied(_("Only moderators see other students' statistics."))
        )
    search = request.GET.get("q", "")[:100]
    page = selectors.student_directory(
        search=search, page=request.GET.get("page"), per_page=STUDENTS_PER_PAGE
    )
    template = "learning/_students_table.html" if request.htmx else "learning/students.html"
    return render(request, template, {"page": page, "search": search})


@login_required
@require_GET
def student_stats(request, user_id: int):
    if not is_staff_like(request.user):
        return error_page(
            request, PermissionDenied(_("Only moderators see other students' statistics."))
        )
    student = get_object_or_404(User, pk=user_id)
    courses, current, stats = _stats_for(student, request.GET.get("course"))
    return render(
        request,
        "learning/stats.html",
        {"student": student, "courses": courses, "current": current, "stats": stats},
    )

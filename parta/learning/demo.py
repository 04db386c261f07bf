"""Demo courses, access and a study history for `seed_demo`. Idempotent: a course that
exists already (by slug) is left as it is."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from parta.access.models import AccessGrant, GrantSource
from parta.access.services import access_grant_create
from parta.accounts.demo import DemoPeople
from parta.accounts.models import User
from parta.accounts.services import user_create
from parta.catalog.models import (
    AnswerKind,
    Author,
    Course,
    Lesson,
    SolutionVisibility,
    Task,
    TaskChoice,
    Test,
    Topic,
)
from parta.common.time import school_today, school_tz
from parta.learning.models import DailyActivity, Submission, TaskProgress


@dataclass(frozen=True)
class DemoCourses:
    base: Course
    advanced: Course


def _task(topic, position, title, statement, kind, solution, **fields) -> Task:
    choices = fields.pop("choices", [])
    task = Task.objects.create(
        topic=topic,
        position=position,
        title=title,
        statement=statement,
        kind=kind,
        solution=solution,
        **fields,
    )
    TaskChoice.objects.bulk_create(
        TaskChoice(task=task, text=text, is_correct=ok, position=i)
        for i, (text, ok) in enumerate(choices, 1)
    )
    return task


def _fill_base_course(course: Course) -> None:
    now = timezone.now()
    t1 = Topic.objects.create(course=course, position=1, title="Простейшие уравнения")
    t2 = Topic.objects.create(course=course, position=2, title="Проценты и доли")
    t3 = Topic.objects.create(
        course=course,
        position=3,
        title="Вероятность",
        opens_at=now + timedelta(days=7),
        description="Откроется через неделю.",
    )
    # A topic that has not opened yet still shows what is coming (titles only).
    Lesson.objects.create(
        topic=t3,
        position=1,
        title="Классическая вероятность",
        body="Вероятность события — число благоприятных исходов, делённое на число всех исходов.",
    )
    _task(
        t3,
        1,
        "Монета",
        "Монету бросают дважды. Найдите вероятность того, что оба раза выпадет орёл.",
        AnswerKind.NUMBER,
        "Исходов четыре, благоприятный один: 1/4 = 0,25.",
        answer_number=Decimal("0.25"),
        tolerance=Decimal("0.001"),
    )
    Lesson.objects.create(
        topic=t1,
        position=1,
        title="Линейные уравнения: вводный урок",
        is_free_preview=True,
        body=(
            "Уравнение вида **ax + b = 0** при a ≠ 0 имеет один корень: x = −b / a.\n\n"
            "1. Перенесите слагаемые без x вправо.\n2. Разделите на коэффициент при x.\n"
        ),
    )
    Lesson.objects.create(
        topic=t1,
        position=2,
        title="Квадратные уравнения",
        body="Дискриминант: D = b² − 4ac. При D > 0 два корня, при D = 0 один.",
    )
    Lesson.objects.create(
        topic=t2,
        position=1,
        title="Проценты без калькулятора",
        body="1% — это сотая часть. 15% от 200 — это 200 · 0,15 = 30.",
    )
    _task(
        t1,
        1,
        "Корень линейного уравнения",
        "Решите уравнение 3x − 12 = 0.",
        AnswerKind.NUMBER,
        "3x = 12, значит x = 4.",
        answer_number=Decimal(4),
    )
    _task(
        t1,
        2,
        "Дробный корень",
        "Решите уравнение 4x = 2. Ответ дайте десятичной дробью.",
        AnswerKind.NUMBER,
        "x = 2 / 4 = 0,5.",
        answer_number=Decimal("0.5"),
        tolerance=Decimal("0.001"),
    )
    _task(
        t1,
        3,
        "Число корней",
        "Сколько корней у уравнения x² + 1 = 0 среди действительных чисел?",
        AnswerKind.SINGLE,
        "x² ≥ 0, поэтому x² + 1 > 0 — корней нет.",
        solution_visibility=SolutionVisibility.AFTER_ATTEMPTS,
        solution_after_attempts=2,
        choices=[("Ни одного", True), ("Один", False), ("Два", False)],
    )
    _task(
        t1,
        4,
        "Корни квадратного уравнения",
        "Отметьте все корни уравнения x² − 5x + 6 = 0.",
        AnswerKind.MULTIPLE,
        "По теореме Виета корни 2 и 3.",
        choices=[("2", True), ("3", True), ("−2", False), ("6", False)],
    )
    _task(
        t2,
        1,
        "Процент от числа",
        "Найдите 15% от 240.",
        AnswerKind.NUMBER,
        "240 · 0,15 = 36.",
        answer_number=Decimal(36),
    )
    _task(
        t2,
        2,
        "Слово",
        "Как называется сотая часть числа? (одно слово)",
        AnswerKind.TEXT,
        "Процент.",
        answer_text="процент",
        solution_visibility=SolutionVisibility.ALWAYS,
    )
    test = Test.objects.create(
        topic=t2, position=1, title="Контрольная: проценты", time_limit_minutes=15
    )
    _task(
        t2,
        10,
        "Скидка",
        "Цена 800 ₽, скидка 25%. Сколько рублей стоит товар со скидкой?",
        AnswerKind.NUMBER,
        "800 · 0,75 = 600.",
        answer_number=Decimal(600),
        test=test,
    )
    _task(
        t2,
        11,
        "Рост цены",
        "Цена выросла с 200 до 250 ₽. На сколько процентов?",
        AnswerKind.NUMBER,
        "50 / 200 = 25%.",
        answer_number=Decimal(25),
        test=test,
    )


def _fill_advanced_course(course: Course) -> None:
    t1 = Topic.objects.create(course=course, position=1, title="Параметры")
    Lesson.objects.create(
        topic=t1,
        position=1,
        title="Что такое задача с параметром",
        is_free_preview=True,
        body="Параметр — это число, от которого зависит ответ. Рассуждаем графически.",
    )
    Lesson.objects.create(
        topic=t1,
        position=2,
        title="Графический метод",
        body="Рисуем семейство прямых y = ax.",
    )
    _task(
        t1,
        1,
        "Один корень",
        "При каком a уравнение ax = 3 не имеет корней?",
        AnswerKind.NUMBER,
        "При a = 0 получаем 0 = 3.",
        answer_number=Decimal(0),
        solution_visibility=SolutionVisibility.NEVER,
    )


def _right_answer(task: Task) -> dict:
    """A correct answer as the checker stores it, so solved tasks show what was accepted."""
    if task.kind == AnswerKind.NUMBER:
        return {"number": str(task.answer_number)}
    if task.kind == AnswerKind.TEXT:
        return {"text": task.answer_text.splitlines()[0]}
    right = sorted(c.id for c in task.choices.all() if c.is_correct)
    return {"choice": right[0]} if task.kind == AnswerKind.SINGLE else {"choices": right}


def _history(student, course: Course) -> None:
    """Three weeks of answers, with the last five days in a row, so the chart and the
    streak show something. The first topic is solved; the second is left to do, so the
    student finds tasks waiting for an answer."""
    if Submission.objects.filter(user=student, course=course).exists():
        return
    tasks = list(
        Task.objects.filter(topic__course=course, topic__position=1, test__isnull=True).order_by(
            "position"
        )
    )
    today = school_today()
    day_offsets = [20, 18, 15, 11, 8, 4, 3, 2, 1, 0]
    tz = school_tz()
    for i, offset in enumerate(day_offsets):
        day = today - timedelta(days=offset)
        moment = timezone.make_aware(datetime.combine(day, time(18, 0)), tz)
        task = tasks[i % len(tasks)]
        first_solve = i < len(tasks)
        progress, _ = TaskProgress.objects.get_or_create(user=student, task=task, course=course)
        wrong = {"number": "-1"} if task.kind == AnswerKind.NUMBER else {"text": "?"}
        if task.kind in (AnswerKind.NUMBER, AnswerKind.TEXT):
            Submission.objects.create(
                user=student,
                task=task,
                course=course,
                answer=wrong,
                is_correct=False,
                created_at=moment - timedelta(minutes=5),
            )
            progress.attempts += 1
            progress.wrong_attempts += 1
        Submission.objects.create(
            user=student,
            task=task,
            course=course,
            answer=_right_answer(task),
            is_correct=True,
            points=task.points,
            created_at=moment,
        )
        progress.attempts += 1
        progress.last_answer_at = moment
        if progress.solved_at is None:
            progress.solved_at = moment
        progress.save()
        DailyActivity.objects.update_or_create(
            user=student,
            course=course,
            day=day,
            defaults={"correct_answers": 1, "tasks_solved": int(first_solve)},
        )


@transaction.atomic
def seed_courses(people: DemoPeople) -> DemoCourses:
    author, _ = Author.objects.get_or_create(
        name="Мария Учителева",
        defaults={"user": people.moderator, "bio": "Готовит к ЕГЭ по математике 12 лет."},
    )
    base, created = Course.objects.get_or_create(
        slug="math-ege-60",
        defaults={
            "title": "Математика ЕГЭ 60+",
            "track": "60+",
            "description": "Уверенные 60+ баллов: уравнения, проценты, вероятность.",
            "price_amount": 490000,
            "price_currency": "RUB",
            "is_published": True,
            "position": 1,
            # Small groups, so the demo shows several of them filling up.
            "max_group_size": 2,
        },
    )
    if created:
        base.authors.add(author)
        _fill_base_course(base)
    advanced, created = Course.objects.get_or_create(
        slug="math-ege-80",
        defaults={
            "title": "Математика ЕГЭ 80+",
            "track": "80+",
            "description": "Вторая часть: параметры, экономические задачи, стереометрия.",
            "price_amount": 790000,
            "price_currency": "RUB",
            "is_published": True,
            "position": 2,
        },
    )
    if created:
        advanced.authors.add(author)
        _fill_advanced_course(advanced)
    # Through the access service, so each student is placed in a study group too.
    for student in (people.student, *_classmates()):
        if not AccessGrant.objects.filter(user=student, course=base).exists():
            access_grant_create(
                user=student,
                course=base,
                source=GrantSource.MANUAL,
                starts_at=timezone.now() - timedelta(days=30),
                note="demo",
            )
    _history(people.student, base)
    return DemoCourses(base=base, advanced=advanced)


CLASSMATES = [
    ("boris@parta.local", "Борис Петров"),
    ("vera@parta.local", "Вера Соколова"),
    ("gleb@parta.local", "Глеб Морозов"),
    ("dina@parta.local", "Дина Волкова"),
]


def _classmates() -> list[User]:
    """A few more students of the base course, so its groups of two fill up."""
    people = []
    for email, name in CLASSMATES:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(email=email, full_name=name, email_verified=True)
        people.append(user)
    return people

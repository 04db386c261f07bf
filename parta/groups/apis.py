"""Study groups in the REST API: a student's own groups; for moderators and staff a
course's groups with their fill, a group's students, renaming, teachers and moves."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.accounts.models import User
from parta.catalog.models import Course
from parta.common.errors import NotFound, PermissionDenied
from parta.groups import selectors, services
from parta.groups.models import Group, Membership

ID_MAX = 2**63 - 1


class _GroupPersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class _GroupCourseRef(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()


class GroupOut(serializers.Serializer):
    """From a Group whose course is loaded."""

    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField(
        source="display_name", help_text="The name, or «Group N» when it has none."
    )
    teacher = _GroupPersonOut(allow_null=True)
    members = serializers.IntegerField(source="members_count", help_text="Students now.")
    size = serializers.IntegerField(
        source="course.max_group_size", help_text="The course's students per group."
    )
    full = serializers.SerializerMethodField()

    @extend_schema_field(serializers.BooleanField())
    def get_full(self, group: Group) -> bool:
        return group.members_count >= group.course.max_group_size


class MyGroupOut(serializers.Serializer):
    group = GroupOut()
    course = _GroupCourseRef()
    joined_at = serializers.DateTimeField()


class _GroupStudentOut(_GroupPersonOut):
    email = serializers.EmailField()
    phone = serializers.CharField(help_text="E.164, or empty.")


class MemberOut(serializers.Serializer):
    student = _GroupStudentOut()
    joined_at = serializers.DateTimeField()
    moved_in_by = _GroupPersonOut(allow_null=True, help_text="null: placed when access began.")


def _person(user: User | None) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user else None


def _member_data(membership: Membership) -> dict:
    student = membership.student
    return {
        "student": {
            "id": student.pk,
            "full_name": student.full_name,
            "email": student.email,
            "phone": student.phone,
        },
        "joined_at": membership.started_at,
        "moved_in_by": _person(membership.placed_by),
    }


def _manager_only(user) -> None:
    if not services.may_manage_groups(user):
        raise PermissionDenied(_("Only moderators and staff see and change groups."))


def _group_for_manager(request, pk: int) -> Group:
    _manager_only(request.user)
    group = selectors.group_get(pk=pk)
    if group is None:
        raise NotFound(_("No such group."))
    return group


class MyGroupsApi(APIView):
    """The caller's groups now, one per course, with the teacher (no other students)."""

    @extend_schema(responses=MyGroupOut(many=True), operation_id="groups_mine")
    def get(self, request):
        data = []
        for membership in selectors.memberships_current(student=request.user):
            group = membership.group
            course = group.course
            data.append(
                {
                    "group": group,
                    "course": {"id": course.pk, "slug": course.slug, "title": course.title},
                    "joined_at": membership.started_at,
                }
            )
        return Response(MyGroupOut(data, many=True).data)


class CourseGroupsApi(ListAPIView):
    """A course's groups in order, with teacher and fill (moderators and staff); `limit`
    and `offset` page through them."""

    serializer_class = GroupOut

    def get_queryset(self):
        _manager_only(self.request.user)
        course = get_object_or_404(Course, pk=self.kwargs["course_id"])
        return (
            Group.objects.filter(course=course)
            .select_related("teacher", "course")
            .order_by("number")
        )

    @extend_schema(operation_id="course_groups_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GroupApi(APIView):
    """One group (moderators and staff): read it, rename it, set or clear its teacher."""

    @extend_schema_serializer(component_name="GroupUpdateInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(
            required=False, allow_blank=True, max_length=services.GROUP_NAME_MAX,
            help_text="Empty: called by its number again.",
        )  # fmt: skip
        teacher = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=ID_MAX,
            help_text="A moderator's or staff member's id; null clears it.",
        )  # fmt: skip

    @extend_schema(responses=GroupOut, operation_id="group_retrieve")
    def get(self, request, pk: int):
        group = _group_for_manager(request, pk)
        return Response(GroupOut(group).data)

    @extend_schema(request=InputSerializer, responses=GroupOut, operation_id="group_update")
    def patch(self, request, pk: int):
        group = _group_for_manager(request, pk)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        teacher = group.teacher
        if "teacher" in data:
            teacher = None
            if data["teacher"] is not None:
                teacher = User.objects.filter(pk=data["teacher"]).first()
                if teacher is None:
                    raise NotFound(_("No such teacher."))
        group = services.group_update(
            group=group, by=request.user, name=data.get("name", group.name), teacher=teacher
        )
        group = selectors.group_get(pk=group.pk)
        return Response(GroupOut(group).data)


class GroupMembersApi(APIView):
    """A group's students now (moderators and staff); POST moves a student of the
    course into this group."""

    @extend_schema_serializer(component_name="GroupMoveInput")
    class InputSerializer(serializers.Serializer):
        student = serializers.IntegerField(min_value=1, max_value=ID_MAX)
        override = serializers.BooleanField(
            default=False,
            help_text="Staff only: move the student even if the group is full.",
        )

    @extend_schema(responses=MemberOut(many=True), operation_id="group_members")
    def get(self, request, pk: int):
        group = _group_for_manager(request, pk)
        members = selectors.group_members(group=group)
        return Response(MemberOut([_member_data(m) for m in members], many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: MemberOut},
        operation_id="group_move",
        description=(
            "Move a student from their current group of the course into this one. A full "
            "group refuses with 409 and code `group_full`; staff may send `override`."
        ),
    )
    def post(self, request, pk: int):
        group = _group_for_manager(request, pk)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        student = User.objects.filter(pk=body.validated_data["student"]).first()
        if student is None:
            raise NotFound(_("No such student."))
        moved = services.membership_move(
            student=student,
            group=group,
            by=request.user,
            override=body.validated_data["override"],
        )
        moved.student = student
        return Response(MemberOut(_member_data(moved)).data, status=201)

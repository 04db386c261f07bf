from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from parta.accounts.services import user_update_profile


class MeApi(APIView):
    """The user the request is authenticated as."""

    @extend_schema_serializer(component_name="MeOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        full_name = serializers.CharField()
        phone = serializers.CharField(help_text="E.164, or empty")
        role = serializers.CharField()
        telegram_linked = serializers.BooleanField()
        created_at = serializers.DateTimeField()

    @extend_schema_serializer(component_name="MeInput")
    class InputSerializer(serializers.Serializer):
        full_name = serializers.CharField(
            required=False, max_length=150, validators=[RegexValidator(r"\S")]
        )
        phone = serializers.CharField(
            required=False, allow_blank=True, max_length=32, help_text="Empty clears it."
        )

        def validate(self, attrs):
            # A form post turns an empty optional field into "not sent": a name sent
            # empty goes on to the service, which refuses it.
            sent = self.initial_data.get("full_name")
            if isinstance(sent, str) and "full_name" not in attrs:
                attrs["full_name"] = sent
            return attrs

    @extend_schema(responses=OutputSerializer, operation_id="me_retrieve")
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="me_update")
    def patch(self, request):
        # Only what was sent changes: a missing field keeps its value.
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = request.user
        user = user_update_profile(
            user=user,
            full_name=data.validated_data.get("full_name", user.full_name),
            phone=data.validated_data.get("phone", user.phone),
        )
        return Response(self.OutputSerializer(user).data)

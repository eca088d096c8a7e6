"""Endpoints that belong to no account and no app: liveness and readiness of the process."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import error_body
from config.api.schema import ErrorResponse
from config.readiness import check_all


class HealthOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=("ok",))


class ReadyOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=("ready",))
    checks = serializers.DictField(child=serializers.CharField(), help_text='part → "ok" or what is wrong')


class HealthApi(APIView):
    """Liveness: the process answers."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = ()

    @extend_schema(responses={200: HealthOutput})
    def get(self, request):
        return Response({"status": "ok"})


class ReadyApi(APIView):
    """Readiness: database, storage and broker reachable, else 503 naming which."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = ()

    @extend_schema(responses={200: ReadyOutput, 503: ErrorResponse("Not ready: `error.message` names the parts down.")})
    def get(self, request):
        checks = check_all()
        failing = sorted(name for name, result in checks.items() if result != "ok")
        if not failing:
            return Response({"status": "ready", "checks": checks})
        body = error_body("not_ready", f"Unavailable: {', '.join(failing)}.") | {"checks": checks}
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)

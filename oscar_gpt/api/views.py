"""The REST API: thin callers of the services, documented in the OpenAPI schema."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from ..descriptions import service
from ..models import Draft, GenerationJob, Revision
from ..permissions import visible_products
from . import serializers as s


class HasPerm(permissions.BasePermission):
    """Staff (or partner users) holding the view's ``required_perms``."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if not (user.is_staff or user.has_perm("partner.dashboard_access")):
            return False
        perms = getattr(view, "required_perms", {}).get(getattr(view, "action", None), ())
        return user.has_perms(perms)


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


GENERATE = ("oscar_gpt.generate_descriptions",)
APPROVE = ("oscar_gpt.approve_descriptions",)
VIEW = ("oscar_gpt.view_draft",)


class JobViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Generation jobs: start one, follow it, cancel it, retry its failures."""

    queryset = GenerationJob.objects.none()  # for the schema; the list is get_queryset's
    serializer_class = s.JobSerializer
    permission_classes = [HasPerm]
    pagination_class = Pages
    required_perms = {
        "create": GENERATE,
        "list": GENERATE,
        "retrieve": GENERATE,
        "cancel": GENERATE,
        "retry": GENERATE,
    }

    def get_queryset(self):
        jobs = GenerationJob.objects.all()
        if not self.request.user.is_staff:
            jobs = jobs.filter(created_by=self.request.user)
        return jobs

    @extend_schema(request=s.GenerationRequestSerializer, responses={202: s.JobSerializer})
    def create(self, request):
        body = s.GenerationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            ids = service.select_products(
                user=request.user, product_ids=body.validated_data["product_ids"]
            )
        except service.DescriptionError as exc:
            raise ValidationError({"product_ids": [str(exc)]}) from exc
        try:
            job = service.start_job(ids, body.validated_data["params"], user=request.user)
        except service.DescriptionError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        service.cancel_job(job)
        job.refresh_from_db()
        return Response(s.JobSerializer(job).data)

    @extend_schema(request=None, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = self.get_object()
        service.retry_failed(job)
        job.refresh_from_db()
        return Response(s.JobSerializer(job).data)


class DraftViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Drafts: list, read, edit the text (re-checked), approve, reject."""

    serializer_class = s.DraftSerializer
    permission_classes = [HasPerm]
    pagination_class = Pages
    http_method_names = ["get", "patch", "post", "head", "options"]
    required_perms = {
        "list": VIEW,
        "retrieve": VIEW,
        "partial_update": APPROVE,
        "update": APPROVE,
        "approve": APPROVE,
        "reject": APPROVE,
    }

    def get_queryset(self):
        drafts = Draft.objects.filter(product__in=visible_products(self.request.user))
        params = self.request.query_params
        for name in ("status", "field"):
            if params.get(name):
                drafts = drafts.filter(**{name: params[name]})
        for name in ("product", "job"):
            if params.get(name, "").isdigit():
                drafts = drafts.filter(**{f"{name}_id": int(params[name])})
        return drafts.order_by("-id")

    def perform_update(self, serializer):
        try:
            service.edit(
                serializer.instance,
                serializer.validated_data.get("text", ""),
                user=self.request.user,
            )
        except service.DescriptionError as exc:
            raise ValidationError({"text": [str(exc)]}) from exc

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.data = s.DraftSerializer(self.get_object()).data
        return response

    @extend_schema(request=s.ApproveSerializer, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = s.ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            draft = service.approve(
                self.get_object(),
                user=request.user,
                text=body.validated_data.get("text"),
                override_reason=body.validated_data["override_reason"],
            )
        except service.ApprovalBlocked as exc:
            raise ValidationError({"override_reason": [str(exc)]}) from exc
        except service.DescriptionError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(s.DraftSerializer(draft).data)

    @extend_schema(request=s.RejectSerializer, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = s.RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            draft = service.reject(
                self.get_object(), user=request.user, reason=body.validated_data["reason"]
            )
        except service.DescriptionError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(s.DraftSerializer(draft).data)


class RevisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every change the app made to a product field; ``restore`` puts the text back."""

    serializer_class = s.RevisionSerializer
    permission_classes = [HasPerm]
    pagination_class = Pages
    required_perms = {"list": VIEW, "retrieve": VIEW, "restore": APPROVE}

    def get_queryset(self):
        revisions = Revision.objects.filter(product__in=visible_products(self.request.user))
        if self.request.query_params.get("product", "").isdigit():
            revisions = revisions.filter(product_id=int(self.request.query_params["product"]))
        return revisions

    @extend_schema(request=None, responses={201: s.RevisionSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        revision = self.get_object()
        if not request.user.has_perms(APPROVE):
            raise PermissionDenied
        restored = service.restore(revision, user=request.user)
        return Response(s.RevisionSerializer(restored).data, status=status.HTTP_201_CREATED)

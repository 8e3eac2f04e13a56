from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ..descriptions.prompts import FORMATS, LENGTHS, MAX_VARIANTS, GenerationParams
from ..models import DescriptionField, Draft, GenerationJob, Revision


class GenerationRequestSerializer(serializers.Serializer):
    product_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=100_000
    )
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=DescriptionField.choices),
        default=[DescriptionField.DESCRIPTION.value],
    )
    tone = serializers.CharField(default="friendly", max_length=200)
    length = serializers.ChoiceField(choices=list(LENGTHS), default="medium")
    language = serializers.CharField(default="", allow_blank=True, max_length=16)
    keywords = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    audience = serializers.CharField(default="", allow_blank=True, max_length=200)
    format = serializers.ChoiceField(choices=list(FORMATS), default="paragraph")
    instructions = serializers.CharField(default="", allow_blank=True, max_length=1000)
    variants = serializers.IntegerField(default=1, min_value=1, max_value=MAX_VARIANTS)
    include_reviews = serializers.BooleanField(default=False)
    only_empty = serializers.BooleanField(default=False)

    def validate(self, attrs):
        data = {k: v for k, v in attrs.items() if k != "product_ids"}
        try:
            attrs["params"] = GenerationParams(**data).validate()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = GenerationJob
        fields = ["id", "status", "params", "created_at", "started_at", "finished_at", "progress"]

    def get_progress(self, job) -> dict:
        from ..descriptions.service import job_progress

        return job_progress(job)


class DraftSerializer(serializers.ModelSerializer):
    class Meta:
        model = Draft
        fields = [
            "id",
            "product",
            "field",
            "variant",
            "text",
            "generated_text",
            "language",
            "params",
            "backend",
            "model",
            "attempts",
            "claims",
            "unsupported_claims",
            "status",
            "job",
            "created_at",
            "edited",
            "reviewed_by",
            "reviewed_at",
            "reject_reason",
            "override_reason",
        ]
        read_only_fields = [f for f in fields if f != "text"]


class ApproveSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=False)
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Revision
        fields = [
            "id",
            "product",
            "field",
            "before",
            "after",
            "user",
            "draft",
            "restored_from",
            "created_at",
        ]

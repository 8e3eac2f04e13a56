"""The shopper Q&A's API shapes. The status payload itself is made by
``oscar_gpt.qa.service.status_payload``; :class:`QuestionStatusSerializer` documents it."""

from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model
from rest_framework import serializers

from ..models import Question
from ..qa import service

Product = get_model("catalogue", "Product")


class QuestionAskSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(is_public=True),
        help_text=_("The id of the product the question is about."),
        error_messages={
            # Unknown and unpublished products alike: nothing tells them apart.
            "does_not_exist": _("There is no product with the id {pk_value} in this shop."),
            "incorrect_type": _("A product is given by its id, a number."),
        },
    )
    #: Checked by the service (empty, too long); blank passes here so its message is the one.
    question = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("The question, in the shopper's words."),
    )
    email = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=254,
        help_text=_(
            "Where to e-mail the answer; kept only with notify, until the answer is sent. "
            "A signed-in shopper's own address is used when left out."
        ),
    )
    notify = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("E-mail the answer when staff have answered it."),
    )

    def validate_question(self, value: str) -> str:
        try:
            return service.clean_question(value)
        except service.QuestionError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class EvidenceSerializer(serializers.Serializer):
    label = serializers.CharField(help_text=_("Where the evidence comes from."))
    text = serializers.CharField()


class QuestionStatusSerializer(serializers.Serializer):
    """Read-only: the shape of ``service.status_payload`` plus ``status_url``."""

    id = serializers.UUIDField(help_text=_("The question's public id."))
    question = serializers.CharField(help_text=_("The question as stored: personal data removed."))
    status = serializers.ChoiceField(choices=Question.Status.choices)
    done = serializers.BooleanField(help_text=_("False while the question is being answered."))
    answer = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(choices=Question.Source.choices, allow_blank=True)
    evidence = EvidenceSerializer(many=True)
    message = serializers.CharField(
        allow_blank=True, help_text=_("What to tell the shopper beside the answer, if anything.")
    )
    status_url = serializers.CharField(help_text=_("Where to follow the question."))


class QuestionReportSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("What is wrong with the answer (at most 500 characters are kept)."),
    )


class ReportedSerializer(serializers.Serializer):
    reported = serializers.BooleanField()
    message = serializers.CharField()


class FaqEntrySerializer(serializers.ModelSerializer):
    question = serializers.CharField(source="text")

    class Meta:
        model = Question
        fields = ["question", "answer", "answered_at", "source"]
        read_only_fields = fields


class QuestionAskErrorSerializer(serializers.Serializer):
    """A 400: messages per field, or ``detail`` for the request as a whole."""

    product = serializers.ListField(child=serializers.CharField(), required=False)
    question = serializers.ListField(child=serializers.CharField(), required=False)
    email = serializers.ListField(child=serializers.CharField(), required=False)
    notify = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


class QuestionReportErrorSerializer(serializers.Serializer):
    """A 400 on a report: the reason's messages, or ``detail`` (nothing to report)."""

    reason = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()

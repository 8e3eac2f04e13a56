from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from ..descriptions.prompts import FORMATS, LENGTHS, MAX_VARIANTS, TONES, GenerationParams
from ..models import DescriptionField

Category = get_model("catalogue", "Category")


class GenerationControlsForm(forms.Form):
    """The controls of a generation request; ``params()`` turns them into the service's."""

    product_fields = forms.MultipleChoiceField(
        label=_("Fields"),
        choices=DescriptionField.choices,
        initial=[DescriptionField.DESCRIPTION],
        widget=forms.CheckboxSelectMultiple,
    )
    tone = forms.ChoiceField(
        label=_("Tone"),
        choices=[(k, k.capitalize()) for k in TONES] + [("custom", _("Other"))],
        initial="friendly",
    )
    custom_tone = forms.CharField(label=_("Other tone"), required=False, max_length=200)
    length = forms.ChoiceField(
        label=_("Length"),
        choices=[(k, f"{k.capitalize()} (~{w} words)") for k, w in LENGTHS.items()],
        initial="medium",
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=[(f, f.capitalize()) for f in FORMATS], initial="paragraph"
    )
    keywords = forms.CharField(
        label=_("SEO keywords"), required=False, max_length=500, help_text=_("Comma-separated.")
    )
    audience = forms.CharField(label=_("Audience"), required=False, max_length=200)
    instructions = forms.CharField(
        label=_("Extra instructions"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    variants = forms.IntegerField(
        label=_("Variants per field"), min_value=1, max_value=MAX_VARIANTS, initial=1
    )
    include_reviews = forms.BooleanField(label=_("Use approved reviews as facts"), required=False)
    only_empty = forms.BooleanField(label=_("Only fill fields that are empty"), required=False)

    def __init__(self, *args, **kwargs):
        from ..app_settings import app_settings

        super().__init__(*args, **kwargs)
        self.fields["only_empty"].initial = app_settings.DESCRIPTIONS_FILL_EMPTY_ONLY

    def clean(self):
        data = super().clean()
        if data.get("tone") == "custom" and not data.get("custom_tone"):
            self.add_error("custom_tone", _("Describe the tone you want."))
        if not self.errors:
            try:
                data["params"] = self.params(data).validate()
            except ValidationError as exc:
                names = {"fields": "product_fields"}
                for name, errors in exc.message_dict.items():
                    name = names.get(name, name)
                    self.add_error(name if name in self.fields else None, errors)
        return data

    @staticmethod
    def params(data) -> GenerationParams:
        tone = data["custom_tone"] if data.get("tone") == "custom" else data.get("tone")
        return GenerationParams(
            fields=data.get("product_fields") or [],
            tone=tone or "friendly",
            length=data.get("length") or "medium",
            language=data.get("language") or "",
            keywords=data.get("keywords") or "",
            audience=data.get("audience") or "",
            format=data.get("format") or "paragraph",
            instructions=data.get("instructions") or "",
            variants=data.get("variants") or 1,
            include_reviews=bool(data.get("include_reviews")),
            only_empty=bool(data.get("only_empty")),
        )


class GenerateForm(GenerationControlsForm):
    """The dashboard's generate page: a category, the whole catalogue, or chosen products."""

    TARGETS = [
        ("products", _("The chosen products")),
        ("category", _("A category")),
        ("all", _("The whole catalogue")),
    ]
    target = forms.ChoiceField(
        label=_("Generate for"), choices=TARGETS, initial="products", widget=forms.RadioSelect
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False
    )
    products = forms.CharField(widget=forms.HiddenInput, required=False)

    field_order = ["target", "category", "products"]

    def clean(self):
        data = super().clean()
        if data.get("target") == "category" and not data.get("category"):
            self.add_error("category", _("Choose a category."))
        if data.get("target") == "products":
            try:
                ids = [int(x) for x in (data.get("products") or "").split(",") if x.strip()]
            except ValueError:
                ids = []
            if not ids:
                self.add_error(
                    "target",
                    _(
                        "No products chosen: pick a category or the whole "
                        "catalogue, or select products in the product list."
                    ),
                )
            data["product_ids"] = ids
        return data


class ReviewForm(forms.Form):
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 10}))
    override_reason = forms.CharField(
        label=_("Reason to approve despite unsupported claims"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reject_reason = forms.CharField(
        label=_("Reason for rejecting"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PromptTemplateForm(forms.Form):
    """A shop's own prompt for one field and product class; blank restores the default."""

    text = forms.CharField(
        label=_("Prompt"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "A Django template. Variables: language_name, tone, words, format, audience, "
            "keywords, instructions, field, product_class. The product's facts are "
            "always appended as data. Leave empty to use the shipped default."
        ),
    )

    def clean_text(self):
        from django.template import Template, TemplateSyntaxError

        text = self.cleaned_data["text"].strip()
        try:
            Template(text)
        except TemplateSyntaxError as exc:
            raise forms.ValidationError(_("Template error: %s") % exc) from exc
        return text

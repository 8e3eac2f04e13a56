"""Fine-tuning pages: export training data, start and follow fine-tunes, choose which
features use a fine-tuned model. Thin callers of :mod:`oscar_gpt.finetune.service`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views import generic

from ..app_settings import app_settings
from ..finetune import registry, service
from ..finetune.export import KINDS
from ..finetune.trainer import TrainingParams
from ..llm.errors import BackendError, ConfigurationError
from ..models import FineTunedModel, FineTuneJob, TrainingExport

#: Files an export offers for download, with what they are.
DOWNLOADS = [
    ("openai_train", _("OpenAI chat JSONL, training")),
    ("openai_validation", _("OpenAI chat JSONL, validation")),
    ("train", _("Local trainer's dataset, training")),
    ("validation", _("Local trainer's dataset, validation")),
    ("summary", _("Summary (JSON)")),
]
KIND_LABELS = {
    "description": _("Product copy (facts -> approved or human-written text)"),
    "answer": _("Answers (question + evidence -> staff or published answer)"),
}
METHODS = [("auto", _("Automatic (full for small models, LoRA for large)")),
           ("full", _("Full fine-tuning")), ("lora", _("LoRA"))]  # fmt: skip


def _aliases(kind: str) -> list[tuple[str, str]]:
    """Configured backend aliases of one kind ("local" or "openai"), for a choice field."""
    from ..llm.local import TransformersBackend
    from ..llm.openai import OpenAIBackend
    from ..llm.registry import backend_class

    wanted = TransformersBackend if kind == "local" else OpenAIBackend
    choices = []
    for alias, definition in app_settings.BACKENDS.items():
        try:
            cls = backend_class(definition.get("CLASS", ""))
        except ConfigurationError:
            continue
        if issubclass(cls, wanted):
            choices.append((alias, alias))
    return choices


def _exports():
    return TrainingExport.objects.filter(status=TrainingExport.Status.DONE)


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs.setdefault("class", "form-control")


class ExportForm(_Form):
    kinds = forms.MultipleChoiceField(
        label=_("Examples"),
        choices=[(k, KIND_LABELS[k]) for k in KINDS],
        initial=list(KINDS),
        widget=forms.CheckboxSelectMultiple,
    )
    validation_share = forms.FloatField(
        label=_("Share of products held out for validation"), min_value=0, max_value=0.9
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["validation_share"].initial = app_settings.FINETUNE_VALIDATION_SHARE


class LocalForm(_Form):
    export = forms.ModelChoiceField(label=_("Training data"), queryset=TrainingExport.objects)
    backend = forms.ChoiceField(label=_("Model (backend)"))
    epochs = forms.FloatField(label=_("Epochs"), min_value=0.1, max_value=50)
    max_minutes = forms.FloatField(label=_("Time limit (minutes)"), min_value=1, required=False)
    method = forms.ChoiceField(label=_("Method"), choices=METHODS, initial="auto")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["export"].queryset = _exports()
        self.fields["export"].initial = service.latest_export()
        self.fields["backend"].choices = _aliases("local")
        local = app_settings.FINETUNE_LOCAL
        self.fields["backend"].initial = local["BACKEND"]
        self.fields["epochs"].initial = local["EPOCHS"]
        self.fields["max_minutes"].initial = local["MAX_MINUTES"]

    def params(self) -> TrainingParams:
        data = self.cleaned_data
        lora = {"auto": None, "full": False, "lora": True}[data["method"]]
        params = TrainingParams.from_settings(
            base=data["backend"], epochs=data["epochs"], max_minutes=data["max_minutes"]
        )
        params.lora = lora
        return params


class HostedForm(_Form):
    export = forms.ModelChoiceField(label=_("Training data"), queryset=TrainingExport.objects)
    backend = forms.ChoiceField(label=_("OpenAI backend (API and key)"))
    model = forms.CharField(label=_("Model to fine-tune"), max_length=255)
    epochs = forms.CharField(label=_("Epochs (a number or auto)"), max_length=8)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["export"].queryset = _exports()
        self.fields["export"].initial = service.latest_export()
        self.fields["backend"].choices = _aliases("openai")
        hosted = app_settings.FINETUNE_OPENAI
        self.fields["backend"].initial = hosted["BACKEND"]
        self.fields["model"].initial = hosted["MODEL"]
        self.fields["epochs"].initial = hosted["EPOCHS"]

    def clean_epochs(self):
        value = self.cleaned_data["epochs"].strip().lower()
        if value != "auto" and not (value.isdigit() and 1 <= int(value) <= 50):
            raise forms.ValidationError(_("A number from 1 to 50, or auto."))
        return value if value == "auto" else int(value)


class FeaturesForm(forms.Form):
    features = forms.MultipleChoiceField(
        label=_("Used first by"),
        choices=[(f, f) for f in service.SELECTABLE_FEATURES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class FineTuneView(generic.TemplateView):
    """Everything on one page: exports, the two ways to fine-tune, jobs and models."""

    template_name = "oscar_gpt/dashboard/finetune.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        models = list(FineTunedModel.objects.select_related("job")[:50])
        for row in models:
            row.features_form = FeaturesForm(
                initial={"features": row.features}, prefix=f"model{row.pk}"
            )
        ctx.update(
            exports=TrainingExport.objects.select_related("created_by")[:10],
            jobs=FineTuneJob.objects.select_related("export", "created_by")[:20],
            models=models,
            export_form=kwargs.get("export_form") or ExportForm(),
            local_form=kwargs.get("local_form") or LocalForm(),
            hosted_form=kwargs.get("hosted_form") or HostedForm(),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        handlers = {"export": self.export, "local": self.local, "hosted": self.hosted}
        if action not in handlers:
            messages.error(request, _("Unknown action."))
            return redirect("oscar_gpt_dashboard:finetune")
        return handlers[action]()

    def _invalid(self, **forms_):
        return self.render_to_response(self.get_context_data(**forms_), status=400)

    def export(self):
        form = ExportForm(self.request.POST)
        if not form.is_valid():
            return self._invalid(export_form=form)
        export = service.start_export(
            user=self.request.user,
            kinds=form.cleaned_data["kinds"],
            validation_share=form.cleaned_data["validation_share"],
        )
        messages.success(self.request, _("Export #%d queued.") % export.pk)
        return redirect("oscar_gpt_dashboard:finetune-export", pk=export.pk)

    def local(self):
        form = LocalForm(self.request.POST)
        if not form.is_valid():
            return self._invalid(local_form=form)
        try:
            job = service.start_local(
                form.cleaned_data["export"], form.params(), user=self.request.user
            )
        except service.FineTuneError as exc:
            form.add_error(None, str(exc))
            return self._invalid(local_form=form)
        messages.success(self.request, _("Fine-tuning job #%d queued.") % job.pk)
        return redirect("oscar_gpt_dashboard:finetune-job", pk=job.pk)

    def hosted(self):
        form = HostedForm(self.request.POST)
        if not form.is_valid():
            return self._invalid(hosted_form=form)
        data = form.cleaned_data
        try:
            job = service.start_hosted(
                data["export"],
                backend=data["backend"],
                model=data["model"],
                epochs=data["epochs"],
                user=self.request.user,
            )
        except service.FineTuneError as exc:
            form.add_error(None, str(exc))
            return self._invalid(hosted_form=form)
        messages.success(self.request, _("Hosted fine-tuning job #%d queued.") % job.pk)
        return redirect("oscar_gpt_dashboard:finetune-job", pk=job.pk)


class ExportDetailView(generic.DetailView):
    model = TrainingExport
    template_name = "oscar_gpt/dashboard/finetune_export.html"
    context_object_name = "export"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        summary = self.object.summary or {}
        ctx.update(
            summary=summary,
            splits=[
                (_("Training"), summary.get("counts", {}).get("train", {})),
                (_("Validation"), summary.get("counts", {}).get("validation", {})),
            ],
            left_out=[(k.replace("_", " "), v) for k, v in summary.get("left_out", {}).items()],
            downloads=DOWNLOADS if self.object.status == TrainingExport.Status.DONE else [],
        )
        return ctx


class ExportFileView(generic.View):
    def get(self, request, pk: int, key: str):
        export = get_object_or_404(TrainingExport, pk=pk)
        try:
            path = service.export_file(export, key)
        except service.FineTuneError as exc:
            raise Http404(str(exc)) from exc
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"oscar-gpt-export-{export.pk}-{path.name}",
            content_type="application/json" if path.suffix == ".json" else "application/jsonl",
        )


class JobDetailView(generic.DetailView):
    model = FineTuneJob
    template_name = "oscar_gpt/dashboard/finetune_job.html"
    context_object_name = "job"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        job = self.object
        row = FineTunedModel.objects.filter(job=job).first()
        metrics = job.metrics or {}
        ctx.update(
            comparison=service.comparison_rows(metrics) if metrics else [],
            copy=metrics.get("copy") or {},
            fine_tuned=row,
            snippet=registry.settings_snippet(row) if row else "",
        )
        return ctx

    def post(self, request, *args, **kwargs):
        job = self.get_object()
        if request.POST.get("action") == "cancel":
            try:
                service.cancel(job, user=request.user)
                messages.info(request, _("Job #%d cancelled.") % job.pk)
            except (service.FineTuneError, BackendError) as exc:
                messages.error(request, str(exc))
        return redirect("oscar_gpt_dashboard:finetune-job", pk=job.pk)


class JobProgressView(generic.View):
    def get(self, request, pk: int):
        job = get_object_or_404(FineTuneJob, pk=pk)
        return JsonResponse(
            {
                "status": job.status,
                "status_display": str(job.get_status_display()),
                "finished": job.finished,
                "progress": job.progress,
                "error": job.error,
            }
        )


class ModelFeaturesView(generic.View):
    """POST: the features that try a fine-tuned model first."""

    def post(self, request, pk: int):
        row = get_object_or_404(FineTunedModel, pk=pk)
        form = FeaturesForm(request.POST, prefix=f"model{row.pk}")
        if form.is_valid():
            service.set_features(row, form.cleaned_data["features"], user=request.user)
            messages.success(
                request,
                _("%(alias)s is now used first by: %(features)s.")
                % {"alias": row.alias, "features": ", ".join(row.features) or _("no feature")},
            )
        else:
            messages.error(request, _("Unknown feature."))
        return redirect("oscar_gpt_dashboard:finetune")

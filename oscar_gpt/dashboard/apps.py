from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig

GENERATE = ["oscar_gpt.generate_descriptions"]
REVIEW = ["oscar_gpt.view_draft"]
APPROVE = ["oscar_gpt.approve_descriptions"]
SPEND = ["is_staff", "oscar_gpt.view_ledgerentry"]
QUESTIONS = ["is_staff", "oscar_gpt.answer_questions"]
FINETUNE = ["is_staff", "oscar_gpt.manage_finetuning"]


class OscarGptDashboardConfig(OscarDashboardConfig):
    """Dashboard pages: generate copy, follow jobs, review drafts, restore revisions, spend,
    answer shoppers' questions.

    Include ``apps.get_app_config("oscar_gpt_dashboard").urls[0]`` under ``dashboard/gpt/``.
    """

    label = "oscar_gpt_dashboard"
    name = "oscar_gpt.dashboard"
    default = True
    verbose_name = _("Oscar GPT dashboard")
    default_permissions = ["is_staff"]

    def configure_permissions(self):
        self.permissions_map = {
            "generate": (["is_staff", *GENERATE], ["partner.dashboard_access", *GENERATE]),
            "job-detail": (["is_staff", *GENERATE], ["is_staff", *REVIEW]),
            "job-progress": (["is_staff", *GENERATE], ["is_staff", *REVIEW]),
            "job-action": (["is_staff", *GENERATE], ["is_staff", *APPROVE]),
            "draft-list": (["is_staff", *REVIEW], ["is_staff", *APPROVE]),
            "draft-review": (["is_staff", *REVIEW], ["is_staff", *APPROVE]),
            "revision-list": (["is_staff", *REVIEW], ["is_staff", *APPROVE]),
            "prompt-list": ["is_staff", "oscar_gpt.change_prompttemplate"],
            "prompt-edit": ["is_staff", "oscar_gpt.change_prompttemplate"],
            "spend": SPEND,
            "spend-csv": SPEND,
            "question-list": QUESTIONS,
            "question-detail": QUESTIONS,
            "finetune": FINETUNE,
            "finetune-export": FINETUNE,
            "finetune-export-file": FINETUNE,
            "finetune-job": FINETUNE,
            "finetune-job-progress": FINETUNE,
            "finetune-model": FINETUNE,
        }

    def ready(self):
        from . import bulk_actions, finetune_views, question_views, spend_views, views

        self.views = views
        self.spend_views = spend_views
        self.question_views = question_views
        self.finetune_views = finetune_views
        self.configure_permissions()
        bulk_actions.register()

    def get_urls(self):
        views = self.views
        urls = [
            path("generate/", views.GenerateView.as_view(), name="generate"),
            path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
            path("jobs/<int:pk>/progress/", views.JobProgressView.as_view(), name="job-progress"),
            path("jobs/<int:pk>/<str:action>/", views.JobActionView.as_view(), name="job-action"),
            path("drafts/", views.DraftListView.as_view(), name="draft-list"),
            path("drafts/<int:pk>/", views.DraftReviewView.as_view(), name="draft-review"),
            path(
                "products/<int:pk>/revisions/",
                views.RevisionListView.as_view(),
                name="revision-list",
            ),
            path("prompts/", views.PromptListView.as_view(), name="prompt-list"),
            path(
                "prompts/<int:class_id>/<str:field>/",
                views.PromptEditView.as_view(),
                name="prompt-edit",
            ),
            path("spend/", self.spend_views.SpendView.as_view(), name="spend"),
            path("spend/csv/", self.spend_views.SpendCsvView.as_view(), name="spend-csv"),
            path(
                "questions/",
                self.question_views.QuestionListView.as_view(),
                name="question-list",
            ),
            path(
                "questions/<int:pk>/",
                self.question_views.QuestionDetailView.as_view(),
                name="question-detail",
            ),
            path("finetune/", self.finetune_views.FineTuneView.as_view(), name="finetune"),
            path(
                "finetune/exports/<int:pk>/",
                self.finetune_views.ExportDetailView.as_view(),
                name="finetune-export",
            ),
            path(
                "finetune/exports/<int:pk>/<str:key>/",
                self.finetune_views.ExportFileView.as_view(),
                name="finetune-export-file",
            ),
            path(
                "finetune/jobs/<int:pk>/",
                self.finetune_views.JobDetailView.as_view(),
                name="finetune-job",
            ),
            path(
                "finetune/jobs/<int:pk>/progress/",
                self.finetune_views.JobProgressView.as_view(),
                name="finetune-job-progress",
            ),
            path(
                "finetune/models/<int:pk>/",
                self.finetune_views.ModelFeaturesView.as_view(),
                name="finetune-model",
            ),
        ]
        return self.post_process_urls(urls)

from django.urls import path

from curation.api import (
    adjudication,
    agreement,
    assignments,
    imports,
    judges,
    projects,
    releases,
    reviews,
    rounds,
    rubrics,
    seed_tasks,
)

urlpatterns = [
    path("me/", projects.MeApi.as_view(), name="api_me"),
    path("projects/", projects.ProjectListApi.as_view(), name="api_project_list"),
    path("projects/<slug:slug>/", projects.ProjectDetailApi.as_view(), name="api_project_detail"),
    path("projects/<slug:slug>/tasks/", seed_tasks.SeedTaskListApi.as_view(), name="api_task_list"),
    path("projects/<slug:slug>/tasks/<int:task_id>/", seed_tasks.SeedTaskDetailApi.as_view(), name="api_task_detail"),
    path("projects/<slug:slug>/assignments/", assignments.AssignmentBatchApi.as_view(), name="api_assignment_create"),
    path("projects/<slug:slug>/review/next/", reviews.ReviewNextApi.as_view(), name="api_review_next"),
    path("projects/<slug:slug>/reviews/", reviews.ReviewSubmitApi.as_view(), name="api_review_submit"),
    path("projects/<slug:slug>/reviews/mine/", reviews.MyReviewListApi.as_view(), name="api_my_reviews"),
    path("projects/<slug:slug>/imports/", imports.ImportListApi.as_view(), name="api_import_list"),
    path("projects/<slug:slug>/imports/<int:job_id>/", imports.ImportDetailApi.as_view(), name="api_import_detail"),
    path(
        "projects/<slug:slug>/imports/<int:job_id>/confirm/",
        imports.ImportConfirmApi.as_view(),
        name="api_import_confirm",
    ),
    path("projects/<slug:slug>/releases/", releases.ReleaseListApi.as_view(), name="api_release_list"),
    path(
        "projects/<slug:slug>/releases/<int:release_id>/",
        releases.ReleaseDetailApi.as_view(),
        name="api_release_detail",
    ),
    path(
        "projects/<slug:slug>/releases/<int:release_id>/download/",
        releases.ReleaseDownloadApi.as_view(),
        name="api_release_download",
    ),
    path(
        "projects/<slug:slug>/releases/<int:release_id>/README.md",
        releases.ReleaseCardApi.as_view(),
        name="api_release_card",
    ),
    path(
        "projects/<slug:slug>/releases/<int:release_id>/retry/",
        releases.ReleaseRetryApi.as_view(),
        name="api_release_retry",
    ),
    path(
        "projects/<slug:slug>/disagreements/",
        adjudication.DisagreementListApi.as_view(),
        name="api_disagreement_list",
    ),
    path("projects/<slug:slug>/agreement/", agreement.AgreementApi.as_view(), name="api_agreement"),
    path("projects/<slug:slug>/adjudications/", adjudication.AdjudicateApi.as_view(), name="api_adjudicate"),
    path("projects/<slug:slug>/rounds/", rounds.RoundCreateApi.as_view(), name="api_round_create"),
    path("projects/<slug:slug>/rounds/<int:round_id>/next/", rounds.RoundJudgeNextApi.as_view(), name="api_round_next"),
    path(
        "projects/<slug:slug>/rounds/<int:round_id>/judgments/",
        rounds.RoundJudgmentApi.as_view(),
        name="api_round_judgment",
    ),
    path(
        "projects/<slug:slug>/rounds/<int:round_id>/results/",
        rounds.RoundResultsApi.as_view(),
        name="api_round_results",
    ),
    path("projects/<slug:slug>/judge-verdicts/", rubrics.JudgeVerdictsApi.as_view(), name="api_judge_verdicts"),
    path("projects/<slug:slug>/judges/<int:judge_id>/panel/", judges.JudgePanelApi.as_view(), name="api_judge_panel"),
    path(
        "projects/<slug:slug>/rubric-grades/<int:response_id>/",
        rubrics.RubricGradeApi.as_view(),
        name="api_rubric_grade",
    ),
]

from django.urls import path

from curation.views import (
    adjudication,
    agreement,
    assignments,
    flags,
    imports,
    projects,
    releases,
    reviews,
    rounds,
    seed_tasks,
    vocabulary,
)

urlpatterns = [
    path("", projects.dashboard, name="dashboard"),
    path("projects/<slug:slug>/", seed_tasks.task_list, name="task_list"),
    path("projects/<slug:slug>/guidelines/", seed_tasks.project_guidelines, name="project_guidelines"),
    path("projects/<slug:slug>/tasks/<int:task_id>/", seed_tasks.task_detail, name="task_detail"),
    path("projects/<slug:slug>/tasks/<int:task_id>/edit/", seed_tasks.task_edit, name="task_edit"),
    path("projects/<slug:slug>/imports/", imports.import_list, name="import_list"),
    path("projects/<slug:slug>/imports/<int:job_id>/", imports.import_detail, name="import_detail"),
    path("projects/<slug:slug>/vocabulary/", vocabulary.vocabulary, name="vocabulary"),
    path("projects/<slug:slug>/vocabulary/map/", vocabulary.vocabulary_map, name="vocabulary_map"),
    path("projects/<slug:slug>/vocabulary/merge/", vocabulary.vocabulary_merge, name="vocabulary_merge"),
    path("projects/<slug:slug>/agreement/", agreement.project_agreement, name="project_agreement"),
    path("projects/<slug:slug>/review/", reviews.review_queue, name="review_queue"),
    path("projects/<slug:slug>/review/next/", reviews.review_next, name="review_next"),
    path("projects/<slug:slug>/review/<int:assignment_id>/", reviews.review_item, name="review_item"),
    path("projects/<slug:slug>/review/<int:assignment_id>/draft/", reviews.review_draft, name="review_draft"),
    path(
        "projects/<slug:slug>/review/<int:assignment_id>/edit/", reviews.review_task_edit_view, name="review_task_edit"
    ),
    path("projects/<slug:slug>/review/<int:assignment_id>/flag/", reviews.review_flag, name="review_flag"),
    path("projects/<slug:slug>/review/<int:assignment_id>/skip/", reviews.review_skip, name="review_skip"),
    path("projects/<slug:slug>/attention/", flags.attention_list, name="attention_list"),
    path("projects/<slug:slug>/attention/<int:flag_id>/clear/", flags.flag_clear, name="flag_clear"),
    path("projects/<slug:slug>/assign/", assignments.assign, name="assign"),
    path("projects/<slug:slug>/releases/", releases.release_list, name="release_list"),
    path("projects/<slug:slug>/releases/<int:release_id>/", releases.release_detail, name="release_detail"),
    path(
        "projects/<slug:slug>/releases/<int:release_id>/download/", releases.release_download, name="release_download"
    ),
    path("projects/<slug:slug>/releases/<int:release_id>/README.md", releases.release_card, name="release_card"),
    path("projects/<slug:slug>/releases/<int:release_id>/retry/", releases.release_retry_view, name="release_retry"),
    path("projects/<slug:slug>/adjudication/", adjudication.adjudication_queue, name="adjudication_queue"),
    path(
        "projects/<slug:slug>/adjudication/settings/",
        adjudication.adjudication_settings_edit,
        name="adjudication_settings",
    ),
    path(
        "projects/<slug:slug>/adjudication/tasks/<int:task_id>/", adjudication.adjudicate_task, name="adjudicate_task"
    ),
    path("projects/<slug:slug>/adjudication/tasks/<int:task_id>/decide/", adjudication.task_decide, name="task_decide"),
    path(
        "projects/<slug:slug>/adjudication/responses/<int:response_id>/",
        adjudication.adjudicate_response,
        name="adjudicate_response",
    ),
    path("projects/<slug:slug>/dataset-decisions/", adjudication.bulk_decide, name="bulk_decide"),
    path("projects/<slug:slug>/rounds/", rounds.round_list, name="round_list"),
    path("projects/<slug:slug>/rounds/new/", rounds.round_create_view, name="round_create"),
    path("projects/<slug:slug>/rounds/<int:round_id>/", rounds.round_detail, name="round_detail"),
    path("projects/<slug:slug>/rounds/<int:round_id>/freeze/", rounds.round_freeze_view, name="round_freeze"),
    path("projects/<slug:slug>/rounds/<int:round_id>/close/", rounds.round_close_view, name="round_close"),
    path("projects/<slug:slug>/rounds/<int:round_id>/judge/", rounds.round_judge, name="round_judge"),
    path("projects/<slug:slug>/rounds/<int:round_id>/results/", rounds.round_results_view, name="round_results"),
    path("projects/<slug:slug>/rounds/<int:round_id>/results.csv", rounds.round_results_csv, name="round_results_csv"),
    path("projects/<slug:slug>/rounds/<int:round_id>/votes.csv", rounds.round_votes_csv, name="round_votes_csv"),
]

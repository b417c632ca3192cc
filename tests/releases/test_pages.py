"""The releases page and API: who may build and download, the form, progress polling, query counts."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from curation.access import can_make_releases
from curation.models import Release, ReleaseStatus, TaskStatus
from curation.services.releases import release_build, release_create
from curation.services.reviews import review_submit
from tests.factories import AdminFactory, ClinicianFactory, CuratorFactory, ProjectFactory, SeedTaskFactory


@pytest.fixture
def accepted(project):
    return SeedTaskFactory.create_batch(3, project=project, status=TaskStatus.ACCEPTED)


@pytest.fixture
def built(project, admin_user, accepted):
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    return release_build(release_id=release.pk)


@pytest.fixture
def release_curator(db):
    curator = CuratorFactory(email="releaser@example.org")
    curator.user_permissions.add(Permission.objects.get(codename="make_release"))
    return curator


def _form_row(page: str, name: str) -> str:
    """The release form's row of one field: its label, input, help and errors."""
    start = page.index(f'<label for="id_{name}">')
    return page[start : page.index('<div class="form-row">', start)]


def _download(client, release):
    return client.get(reverse("release_download", args=[release.project.slug, release.pk]))


def test_an_admin_downloads_the_release_file_with_its_checksum(client, admin_user, built):
    client.force_login(admin_user)

    response = _download(client, built)

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == built.sha256 == response["X-Content-SHA256"]
    assert f'filename="cardio-release-{built.pk}-alpaca.jsonl"' in response["Content-Disposition"]


def test_a_curator_with_the_release_permission_may_download_and_one_without_may_not(
    client, built, release_curator, curator
):
    client.force_login(release_curator)
    assert _download(client, built).status_code == 200
    client.force_login(curator)
    assert _download(client, built).status_code == 403


def _make_release_granted_to(user, *, through_a_group: bool = False) -> None:
    permission = Permission.objects.get(content_type__app_label="curation", codename="make_release")
    if through_a_group:
        group = Group.objects.create(name="Release makers")
        group.permissions.add(permission)
        user.groups.add(group)
    else:
        user.user_permissions.add(permission)


WHO_MAY_MAKE_RELEASES = {
    "a curator granted the permission": (CuratorFactory, {"granted": True}, True),
    "a curator granted it through a group": (CuratorFactory, {"granted": True, "through_a_group": True}, True),
    "a curator not granted it": (CuratorFactory, {}, False),
    "a curator granted it, deactivated": (CuratorFactory, {"granted": True, "is_active": False}, False),
    "a superuser curator": (CuratorFactory, {"is_superuser": True}, True),
    "a clinician granted it": (ClinicianFactory, {"granted": True}, False),
    "an admin": (AdminFactory, {}, True),
}


@pytest.mark.parametrize("who", WHO_MAY_MAKE_RELEASES)
def test_who_may_make_releases_is_what_djangos_permission_check_says_asked_in_one_query(db, who):
    factory, given, expected = WHO_MAY_MAKE_RELEASES[who]
    user = factory(is_active=given.get("is_active", True), is_superuser=given.get("is_superuser", False))
    if given.get("granted"):
        _make_release_granted_to(user, through_a_group=given.get("through_a_group", False))
    django_says = User.objects.get(pk=user.pk)
    django_says = django_says.is_admin or (django_says.is_curator and django_says.has_perm("curation.make_release"))

    fresh = User.objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as asked:
        assert can_make_releases(fresh) is expected is django_says
        assert can_make_releases(fresh) is expected  # asked once a request
    assert len(asked) <= 1


def test_the_permission_is_read_as_every_configured_backend_grants_it(settings):
    # can_make_releases reads the user's and their groups' permissions itself, as ModelBackend does: a backend
    # granting permissions otherwise would have to be asked through has_perm.
    for path in settings.AUTHENTICATION_BACKENDS:
        backend = import_string(path)
        assert issubclass(backend, ModelBackend), path
        for method in ("has_perm", "get_all_permissions", "get_user_permissions", "get_group_permissions"):
            assert getattr(backend, method) is getattr(ModelBackend, method), (path, method)


def test_clinicians_get_403_outsiders_404_and_anonymous_the_login_page(client, built, clinician, outsider):
    assert _download(client, built).status_code == 302
    client.force_login(clinician)
    assert _download(client, built).status_code == 403
    client.force_login(outsider)
    assert _download(client, built).status_code == 404


def test_a_release_of_another_project_is_not_found_through_this_one(client, admin_user, built):
    other = ProjectFactory(slug="oncology")
    client.force_login(admin_user)

    assert client.get(reverse("release_download", args=[other.slug, built.pk])).status_code == 404
    assert client.get(reverse("api_release_download", args=[other.slug, built.pk])).status_code == 404


def test_an_unfinished_release_has_nothing_to_download(client, admin_user, project, accepted):
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    client.force_login(admin_user)

    response = _download(client, release)

    assert response.status_code == 409
    assert "queued" in response.content.decode()


def test_a_release_whose_file_was_removed_from_storage_answers_gone(client, admin_user, built, media):
    (media / built.file_path).unlink()
    client.force_login(admin_user)

    response = _download(client, built)

    assert response.status_code == 410
    assert built.file_path in response.content.decode()


def test_the_api_downloads_only_for_allowed_users(client, built, admin_user, clinician, curator):
    url = reverse("api_release_download", args=[built.project.slug, built.pk])
    assert client.get(url).status_code == 401
    for user, expected in ((clinician, 403), (curator, 403), (admin_user, 200)):
        client.force_login(user)
        assert client.get(url).status_code == expected, user


def test_the_page_creates_a_release_that_a_worker_builds_then_shows_its_manifest_and_card(
    client, project, admin_user, django_capture_on_commit_callbacks
):
    SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED, topic_raw="Cardiology")
    SeedTaskFactory(project=project, status=TaskStatus.DRAFT)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("release_list", args=[project.slug]),
            {
                "format": "chat",
                "title": "Cardiology chat v1",
                "license": "CC BY-NC 4.0",
                "statuses": ["accepted"],
                "min_reviewers": "0",
                "topics": ["Cardiology"],
                "purpose": "Tune <b>carefully</b>",
            },
        )

    release = Release.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("release_detail", args=[project.slug, release.pk])
    assert release.status == ReleaseStatus.SUCCEEDED and release.row_count == 2
    page = client.get(response["Location"]).content.decode()
    assert release.sha256 in page
    assert "Tune &lt;b&gt;carefully&lt;/b&gt;" in page and "<b>carefully" not in page
    assert 'data-testid="card"' in page and "Cardiology | 2" not in page  # the card is rendered, not raw
    listing = client.get(reverse("release_list", args=[project.slug])).content.decode()
    assert "Cardiology chat v1" in listing


def test_a_bad_definition_is_shown_next_to_its_field_and_nothing_is_created(client, project, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("release_list", args=[project.slug]),
        {"format": "alpaca", "license": "CC BY 4.0", "statuses": ["accepted"], "min_reviewers": "-2"},
    )

    assert response.status_code == 400
    row = _form_row(response.content.decode(), "min_reviewers")
    assert "must be a whole number, 0 or more (got -2)" in row
    assert not Release.objects.exists()


def test_progress_polling_returns_only_the_status_fragment_until_the_build_finishes(
    client, project, admin_user, accepted
):
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    url = reverse("release_detail", args=[project.slug, release.pk])
    client.force_login(admin_user)

    queued = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert queued.lstrip().startswith('<div id="release-status"')
    assert "<html" not in queued
    assert 'hx-trigger="every 1s"' in queued and f'href="{url}"' in queued

    release_build(release_id=release.pk)
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="succeeded"' in done
    assert "hx-trigger" not in done, "polling stops once the release is finished"


def test_a_failed_release_can_be_retried_from_the_page(
    client, project, admin_user, accepted, django_capture_on_commit_callbacks
):
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.FAILED, error="OSError: disk full")
    client.force_login(admin_user)
    assert "disk full" in client.get(reverse("release_detail", args=[project.slug, release.pk])).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("release_retry", args=[project.slug, release.pk]))

    release.refresh_from_db()
    assert release.status == ReleaseStatus.SUCCEEDED and release.attempts == 1


def test_the_api_creates_polls_and_downloads_a_release(client, project, admin_user, django_capture_on_commit_callbacks):
    SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED, difficulty=2)
    SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, difficulty=5)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("api_release_list", args=[project.slug]),
            {"format": "alpaca", "filters": {"difficulties": [2]}},
            content_type="application/json",
        )
    assert created.status_code == 202, created.content
    polled = client.get(reverse("api_release_detail", args=[project.slug, created.json()["id"]])).json()

    assert polled["status"] == "succeeded" and polled["row_count"] == 2 and polled["percent"] == 100
    assert polled["filters"]["difficulties"] == [2]
    download = client.get(polled["download_url"])
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == polled["sha256"]
    card = client.get(reverse("api_release_card", args=[project.slug, polled["id"]]))
    assert card.content.decode() == polled["card"]


def test_the_api_refuses_a_bad_definition_with_errors_by_field(client, project, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("api_release_list", args=[project.slug]),
        {"format": "alpaca", "filters": {"topics": ["Astrology"]}},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "Astrology" in response.json()["topics"][0]
    assert not Release.objects.exists()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_releases_page_costs_the_same_queries_however_many_releases(client, project, admin_user, clinician):
    [task] = SeedTaskFactory.create_batch(1, project=project, status=TaskStatus.ACCEPTED, reference_output="Rest.")
    review_submit(
        reviewer=clinician,
        schema=project.seed_schema,
        seed_task=task,
        answers={"decision": "accept", "clinical_validity": 5, "clarity": 4, "difficulty": 3},
        corrected_text="Rest, and see your doctor.",
    )
    client.force_login(admin_user)
    url, api = reverse("release_list", args=[project.slug]), reverse("api_release_list", args=[project.slug])
    release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    client.get(url)  # the first request after logging in may write the session; count the ones after it
    few, api_few = _queries(client, url), _queries(client, api)
    for fmt in ("chat", "reviews", "preference", "scores_csv", "reviews_csv"):
        release_build(release_id=release_create(project=project, created_by=admin_user, format=fmt, enqueue=False).pk)
    assert _queries(client, url) == few
    assert _queries(client, api) == api_few


def _worker_stopped(release: Release, *, restarts: int = 0) -> None:
    """What a worker killed mid-build leaves once its lease has run out: the release still running."""
    seen = timezone.now() - timedelta(seconds=75)
    Release.objects.filter(pk=release.pk).update(
        status=ReleaseStatus.RUNNING, attempts=1 + restarts, restarts=restarts, heartbeat_at=seen,
        leased_until=seen + timedelta(seconds=60),
    )  # fmt: skip


def test_reading_the_page_starts_again_a_build_whose_worker_stopped_and_the_page_says_so(
    client, project, admin_user, accepted, django_capture_on_commit_callbacks
):
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    _worker_stopped(release)
    client.force_login(admin_user)
    url = reverse("release_detail", args=[project.slug, release.pk])

    with django_capture_on_commit_callbacks(execute=True):
        queued = client.get(url).content.decode()

    assert 'data-status="queued"' in queued
    assert "The worker building this release stopped during attempt 1" in queued
    assert "queued to start again at" in queued
    release.refresh_from_db()
    assert release.status == ReleaseStatus.SUCCEEDED and release.attempts == 2
    assert "stopped during attempt 1" in client.get(url).content.decode(), "the page keeps the build's history"


def test_the_api_starts_again_a_build_whose_worker_stopped_and_lists_the_stop(
    client, project, admin_user, accepted, django_capture_on_commit_callbacks
):
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    _worker_stopped(release)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        listed = client.get(reverse("api_release_list", args=[project.slug])).json()

    assert listed[0]["status"] == "queued"
    [stop] = listed[0]["interruptions"]
    assert stop["attempt"] == 1 and stop["then"] == "queued again" and stop["last_seen"] < stop["at"]
    detail = client.get(reverse("api_release_detail", args=[project.slug, release.pk])).json()
    assert detail["status"] == "succeeded" and detail["attempts"] == 2 and detail["interruptions"] == [stop]


def test_a_build_whose_workers_keep_stopping_is_failed_saying_why_and_a_person_can_retry_it(
    client, project, admin_user, accepted, django_capture_on_commit_callbacks
):
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    _worker_stopped(release, restarts=2)
    client.force_login(admin_user)
    url = reverse("release_detail", args=[project.slug, release.pk])

    page = client.get(url).content.decode()

    assert 'data-status="failed"' in page and "started 3 times in a row and stopped each time" in page
    assert "found at" in page and "not started again" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("release_retry", args=[project.slug, release.pk]))
    release.refresh_from_db()
    assert release.status == ReleaseStatus.SUCCEEDED and release.attempts == 4 and release.restarts == 0

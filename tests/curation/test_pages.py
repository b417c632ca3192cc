from django.urls import reverse

from curation.services.seed_tasks import seed_task_create
from tests.factories import AssignmentFactory, SeedTaskFactory

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>[click](javascript:alert(1))'


def test_task_list_filters_by_metadata_and_text(client, project, clinician):
    seed_task_create(project=project, instruction="Rewrite this discharge note.", task_type="Rewrites", difficulty=2)
    seed_task_create(project=project, instruction="Classify this rash.", task_type="Classification", difficulty=4)
    client.force_login(clinician)
    url = reverse("task_list", args=[project.slug])
    rewrite_type = project.seed_tasks.get(instruction__startswith="Rewrite").task_type
    page = client.get(url, {"task_type": rewrite_type.pk}).content.decode()
    assert "Rewrite this discharge note." in page and "Classify this rash." not in page
    page = client.get(url, {"q": "rash", "difficulty": 4}).content.decode()
    assert "Classify this rash." in page and "Rewrite this discharge note." not in page


def test_htmx_filter_request_gets_only_the_table_fragment(client, project, clinician):
    SeedTaskFactory(project=project, instruction="Name two loop diuretics.")
    client.force_login(clinician)
    response = client.get(reverse("task_list", args=[project.slug]), {"q": "diuretic"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="task-table">')
    assert "<html" not in body and "Name two loop diuretics." in body


def test_pagination_links_work_without_javascript_and_keep_filters(client, project, clinician):
    for _ in range(30):
        SeedTaskFactory(project=project, difficulty=3)
    client.force_login(clinician)
    page = client.get(reverse("task_list", args=[project.slug]), {"difficulty": 3})
    cursor = page.context["page"].next_cursor
    assert f'href="?difficulty=3&amp;cursor={cursor}"' in page.content.decode()


def test_every_paged_list_links_its_pages_and_refreshes_only_its_own_table(client, project, clinician):
    for _ in range(26):
        AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    client.force_login(clinician)
    first = client.get(reverse("review_queue", args=[project.slug]))
    cursor = first.context["page"].next_cursor
    assert "Previous" not in first.content.decode()
    assert f'href="?cursor={cursor}" hx-get="?cursor={cursor}" hx-target="#queue"' in first.content.decode()
    second = client.get(reverse("review_queue", args=[project.slug]), {"cursor": cursor})
    back = second.context["page"].previous_cursor
    assert f'href="?cursor={back}"' in second.content.decode() and "Next</a>" not in second.content.decode()
    tasks = client.get(reverse("task_list", args=[project.slug]))
    cursor = tasks.context["page"].next_cursor
    assert f'href="?cursor={cursor}" hx-get="?cursor={cursor}" hx-target="#task-table"' in tasks.content.decode()


def test_user_text_is_escaped_on_every_page_that_shows_it(client, project, clinician):
    task = seed_task_create(project=project, instruction=XSS, input=XSS, reference_output=XSS, topic=XSS)
    client.force_login(clinician)
    for url in (
        reverse("task_list", args=[project.slug]),
        reverse("task_detail", args=[project.slug, task.pk]),
        reverse("task_edit", args=[project.slug, task.pk]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert 'href="javascript:' not in body, url


def test_guidelines_render_as_markdown(client, project, clinician):
    client.force_login(clinician)
    body = client.get(reverse("project_guidelines", args=[project.slug])).content.decode()
    assert "<strong>clinical validity</strong>" in body

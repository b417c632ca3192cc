"""Every page carries a Content-Security-Policy that runs only our own script and style files."""

from django.urls import reverse

from curation.text.markdown import render_markdown


def test_pages_forbid_inline_code_eval_and_framing(client, clinician):
    client.force_login(clinician)

    policy = client.get(reverse("dashboard"))["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"].startswith("'self'")
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def test_htmx_is_configured_without_eval_or_injected_styles(client, clinician):
    client.force_login(clinician)

    html = client.get(reverse("dashboard")).content.decode()

    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
    assert "<script>" not in html and " style=" not in html


def test_markdown_tables_align_by_class_not_by_style_attribute():
    html = render_markdown("| name | n |\n|:--|--:|\n| a | 1 |")

    assert "style=" not in html
    assert '<td class="num">1</td>' in html

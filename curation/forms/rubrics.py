"""The rubric editor's rows and the grading form, read from a POST.

The editor posts parallel lists (`text`, `points`, `axis`, `cluster`, `order`, one entry per row) and
`library` ids picked from the consensus library; rows with empty text are left out. Values are kept as
typed so the service names what is wrong with them. Curators upload rubric and verdict files and choose
whether graders see points with the two forms at the end.
"""

from django import forms
from django.conf import settings
from django.http import QueryDict

from curation.services.rubrics import CriterionInput


def _int(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value


def criteria_from_post(post: QueryDict) -> list[CriterionInput]:
    texts, points, axes = post.getlist("text"), post.getlist("points"), post.getlist("axis")
    clusters, orders = post.getlist("cluster"), post.getlist("order")
    rows = []
    for i, text in enumerate(texts):
        if not text.strip():
            continue
        cluster = clusters[i].strip() if i < len(clusters) else ""
        order = _int(orders[i]) if i < len(orders) else i
        criterion = CriterionInput(
            text=text.strip(),
            points=_int(points[i].strip()) if i < len(points) else "",
            axis=axes[i] if i < len(axes) else "",
            level="cluster" if cluster else "example",
            cluster=cluster,
        )
        rows.append((order if isinstance(order, int) else i, i, criterion))
    rows.sort(key=lambda r: (r[0], r[1]))
    picked = [
        CriterionInput(text="", points=1, axis="accuracy", consensus_id=int(x))
        for x in post.getlist("library")
        if x.isdigit()
    ]
    return [c for _, _, c in rows] + picked


def marks_from_post(post: QueryDict, criterion_ids: list[int]) -> dict[int, bool]:
    """`mark-<id>` is "1" (met) or "0" (not met); an unanswered criterion is left out for the service to name."""
    marks = {}
    for pk in criterion_ids:
        value = post.get(f"mark-{pk}")
        if value in ("0", "1"):
            marks[pk] = value == "1"
    return marks


class RubricFileForm(forms.Form):
    """A HealthBench JSONL file (rubric rows, meta-eval rows) or a judge's verdicts (JSONL or CSV)."""

    file = forms.FileField()

    def clean_file(self) -> tuple[str, str]:
        """The file's name and text; too large or not UTF-8 is said here, before any row is read."""
        upload = self.cleaned_data["file"]
        limit = settings.CONCORD_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is {upload.size} bytes; the limit is {limit}.")
        try:
            return upload.name, upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(f"The file is not UTF-8 text (byte {exc.start}).") from None


class RubricSettingsForm(forms.Form):
    show_points_to_graders = forms.BooleanField(required=False, label="Show each criterion's points to graders")

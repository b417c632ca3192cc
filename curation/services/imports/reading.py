"""How each file of an import is read: its reading (format), column mapping and model, and a preview.

Shared by the run of a job and by the preview shown before anything is written, so that what the
person confirms is exactly what the import does.
"""

from typing import Any

from curation import formats
from curation.formats import FormatUnknown, PairRecord, Problem, PromptRecord, ResponseRecord, SeedTaskRecord
from curation.formats.base import head_problem, read_head
from curation.formats.naming import model_from_path
from curation.models import ImportFormat
from curation.selectors.imports import import_prompt_rows
from curation.services.imports.sources import ImportSource

ANSWER_FORMATS = (
    ImportFormat.MODEL_OUTPUTS,
    ImportFormat.OUTPUTS_WITH_PROMPTS,
    ImportFormat.ALPACA_EVAL,
    ImportFormat.PROMPT_RESPONSE,
)
PREVIEW_RECORDS = 5
PREVIEW_CHARS = 400


def _known_prompts(project_id: int):
    ids: set[str] | None = None

    def names_known_prompts(record: dict) -> bool:
        nonlocal ids
        if ids is None:
            ids = {external_id for _, external_id, _, _ in import_prompt_rows(project_id=project_id)}
        return str(record.get("id", "")).strip() in ids

    return names_known_prompts


def source_settle(
    source: ImportSource, *, project_id: int, format: str, model_name: str, batch: bool = False
) -> tuple[Problem | None, dict]:
    """Decide the file's reading and model; the problem that prevents reading it, and a mapping to suggest."""
    problem = head_problem(read_head(source.path))
    if problem is not None:
        return problem, {}
    # Before the format is told from the columns: a mapping to a column the file lacks drops the field's
    # own column, and what is left would be reported as some other defect instead of the mistaken mapping.
    is_csv = format == ImportFormat.CSV or (not format and source.name.lower().endswith(".csv"))
    if not is_csv:
        problem = formats.mapping_problem(source.path, source.mapping, format, batch=batch)
        if problem is not None:
            return problem, {}
    source.format = format
    if not source.format:
        try:
            source.format = formats.detect_format(
                source.path, source.name, source.mapping, names_known_prompts=_known_prompts(project_id)
            )
        except FormatUnknown as exc:
            return exc.problem or Problem(1, "format", str(exc)), exc.suggested_mapping
    if source.format == ImportFormat.CSV or formats.streams.first_char(source.path) != "[":
        source.unit = "line"
    else:
        source.unit = "record"
    return _settle_model(source, model_name), {}


def _settle_model(source: ImportSource, model_name: str) -> Problem | None:
    if source.format not in ANSWER_FORMATS:
        return None
    if model_name:
        source.model_name, source.model_from = model_name, "the import"
        return None
    source.model_name = model_from_path(source.path_hint or source.name, batch_depth=source.depth)[:200]
    source.model_from = "the path"
    if source.format != ImportFormat.MODEL_OUTPUTS:
        first = next((r for r in formats.parse(source.path, source.format, source.mapping)), None)
        if isinstance(first, PairRecord) and first.model:
            source.model_from = "the records"
            return None
    if not source.model_name:
        return Problem(None, "model", f"nothing in {source.name!r} names the model that wrote it: name it (--model)")
    return None


def _short(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _preview_row(record: Any, source: ImportSource) -> dict[str, Any]:
    row = {"line": record.line, "prompt": "", "input": "", "reference": "", "reference_model": "", "response": ""}
    row["model"] = ""
    if isinstance(record, SeedTaskRecord):
        row.update(prompt=record.instruction, input=record.input, reference=record.reference_output)
    elif isinstance(record, PromptRecord):
        first = record.references[0] if record.references else ("", "")
        names = ", ".join(name for name, _ in record.references)
        row.update(prompt=record.instruction, input=record.input, reference=first[1], reference_model=names)
    elif isinstance(record, ResponseRecord):
        row.update(prompt=record.instruction, response=record.text, model=source.model_name)
    elif isinstance(record, PairRecord):
        model = source.model_name if source.model_from == "the import" or not record.model else record.model
        row.update(prompt=record.instruction, input=record.input, response=record.response, model=model)
        row.update(reference=record.reference, reference_model=record.reference_model)
    return {key: _short(value) if isinstance(value, str) else value for key, value in row.items()}


def source_preview(source: ImportSource) -> list[dict[str, Any]]:
    """The first records as they would be stored: which text becomes the prompt, reference, response, model."""
    rows = []
    for item in formats.parse(source.path, source.format, source.mapping):
        if not isinstance(item, Problem):
            rows.append(_preview_row(item, source))
        if len(rows) >= PREVIEW_RECORDS:
            break
    return rows


def source_sample_unknown(source: ImportSource) -> list[str]:
    sample, _ = formats.sample_of(source.path, source.mapping)
    keys = set().union(*(raw.data.keys() for raw in sample)) if sample else set()
    return formats.unknown_fields(source.format, keys)

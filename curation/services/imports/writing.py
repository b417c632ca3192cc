"""Pass 2 of an import: the validated records written as rows, one writer per kind of file.

Each writer runs inside the import's transaction, holding the project's row lock (or, where each
batch commits on its own, storage.writes_in_batches, once the job is the project's one import
writing), and returns the report of what it created and skipped. Records already in the project
(same content hash) are skipped; so are repeats within the file.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from curation.formats import PairRecord, PromptRecord, Record, ResponseRecord, SeedTaskRecord
from curation.models import (
    ImportFormat,
    ImportJob,
    ModelResponse,
    Prompt,
    SeedTask,
    TaskSource,
    TaskStatus,
    VocabularyKind,
)
from curation.selectors.imports import prompt_ids_of, response_hashes_of, seed_task_hashes_of
from curation.services.imports import storage
from curation.services.imports.matching import PromptIndex
from curation.services.imports.sources import ImportSource
from curation.services.seed_tasks import seed_tasks_counted
from curation.services.vocabulary import vocabulary_index, vocabulary_uses_of
from curation.text.hashing import content_hash
from curation.text.vocabulary import normalise_key

# Imported seed tasks came from a curated file: they go straight to the reviewers' queue.
IMPORTED_STATUS = TaskStatus.IN_REVIEW
_VOCABULARY_FIELDS = (
    (VocabularyKind.TOPIC, "topic"),
    (VocabularyKind.VIEW, "view"),
    (VocabularyKind.TASK_TYPE, "task_type"),
)


def response_hash(*, model_name: str, item_hash: str, text: str) -> str:
    """The item is part of a response's identity: two prompts answered "I don't know" are two responses."""
    return content_hash(model_name, item_hash, text)


class _TermLinks:
    """A seed task's raw topic, view and type resolved to vocabulary terms, each spelling looked up once;
    the spellings no term has are counted for the report."""

    def __init__(self):
        self.index = vocabulary_index()
        self.terms: dict[tuple[str, str], int | None] = {}
        self.unmapped: dict[str, Counter] = {kind: Counter() for kind, _ in _VOCABULARY_FIELDS}

    def columns(self, record: SeedTaskRecord) -> dict[str, int | None]:
        columns = {}
        for kind, name in _VOCABULARY_FIELDS:
            raw = getattr(record, name)
            term_id = None
            if raw:
                if (kind, raw) not in self.terms:
                    self.terms[kind, raw] = self.index.get((kind, normalise_key(raw)))
                term_id = self.terms[kind, raw]
                if term_id is None:
                    self.unmapped[kind][raw] += 1
            columns[f"{name}_id"] = term_id
        return columns

    def report(self) -> dict[str, list[dict[str, Any]]]:
        return {
            kind: [{"raw": raw, "count": count} for raw, count in sorted(counter.items())]
            for kind, counter in self.unmapped.items()
            if counter
        }


PAIR_FORMATS = (ImportFormat.OUTPUTS_WITH_PROMPTS, ImportFormat.ALPACA_EVAL, ImportFormat.PROMPT_RESPONSE)


class Writer:
    """Writes one file's records; `on_written(count)` is told the job's running count after every batch.

    `written_before` counts the records the job's earlier files wrote, so the count runs over the batch.
    """

    def __init__(
        self,
        job: ImportJob,
        source: ImportSource,
        records: Iterable[Record],
        on_written: Callable[[int], None],
        written_before: int = 0,
    ):
        self.job = job
        self.source = source
        self.records = records
        self.on_written = on_written
        self.written_before = written_before
        self.inserter = storage.Inserter()
        self.now: datetime = timezone.now()

    def write(self) -> dict[str, Any]:
        if self.source.format == ImportFormat.MEDINSTRUCT_TEST:
            return self._prompts()
        if self.source.format == ImportFormat.MODEL_OUTPUTS:
            return self._responses()
        if self.source.format in PAIR_FORMATS:
            return self._pairs()
        return self._seed_tasks()

    def flush_rows(self, model, rows: list[dict[str, Any]], written: int) -> None:
        """Write one batch, with the history of its tasks and the job's running count."""
        with storage.batch_transaction():
            if rows:
                self.inserter.insert(model, rows)
                if model is SeedTask:
                    reason = storage.import_history_reason(self.job)
                    self.inserter.history_for_import(SeedTask, job=self.job, reason=reason, rows=rows)
                    # Counted with the batch that wrote them, in its transaction.
                    seed_tasks_counted(project_id=self.job.project_id, tasks=len(rows), uses=vocabulary_uses_of(rows))
            self.job.records_written = self.written_before + written
            self.on_written(self.job.records_written)

    def _origin(self, line: int) -> dict[str, Any]:
        return {"origin_file": self.source.name[:500], "origin_line": line, "import_job_id": self.job.pk}

    # -- seed tasks --------------------------------------------------------------------------

    def _seed_task_common(self) -> dict[str, Any]:
        """The columns every seed task of this import shares."""
        return {
            "project_id": self.job.project_id,
            "source": TaskSource.IMPORTED,
            "status": IMPORTED_STATUS,
            "created_by_id": self.job.created_by_id,
            "created_at": self.now,
            "updated_at": self.now,
            "version": 1,
            "origin_file": self.source.name[:500],
            "import_job_id": self.job.pk,
        }

    @staticmethod
    def _seed_task_row(record: SeedTaskRecord, digest: str) -> dict[str, Any]:
        return {
            "instruction": record.instruction,
            "input": record.input,
            "reference_output": record.reference_output,
            "topic_raw": record.topic,
            "view_raw": record.view,
            "task_type_raw": record.task_type,
            "difficulty": record.difficulty,
            "external_id": record.external_id,
            "content_hash": digest,
            "origin_line": record.line,
        }

    def _seed_tasks(self) -> dict[str, Any]:
        seen = seed_task_hashes_of(project_id=self.job.project_id)
        links, common = _TermLinks(), self._seed_task_common()
        batch: list[dict[str, Any]] = []
        written = skipped = 0
        for record in self.records:
            assert isinstance(record, SeedTaskRecord)
            digest = content_hash(record.instruction, record.input, record.reference_output)
            if digest in seen:
                skipped += 1
                continue
            seen.add(digest)
            batch.append({**common, **self._seed_task_row(record, digest), **links.columns(record)})
            written += 1
            if len(batch) >= storage.BATCH_SIZE:
                self.flush_rows(SeedTask, batch, written)
                batch = []
        self.flush_rows(SeedTask, batch, written)
        return {
            "created": {"seed_tasks": written},
            "skipped": {"seed_tasks": skipped},
            "unmapped": links.report(),
        }

    # -- test prompts and model responses ----------------------------------------------------

    def response_row(self, *, prompt_id: int, model_name: str, item_hash: str, text: str, raw_output: str, line: int):
        return {
            "prompt_id": prompt_id,
            "model_name": model_name,
            "text": text,
            "raw_output": raw_output,
            "content_hash": response_hash(model_name=model_name, item_hash=item_hash, text=text),
            "created_at": self.now,
            **self._origin(line),
        }

    def _prompt_row(self, record: PromptRecord, digest: str) -> dict[str, Any]:
        return {
            "project_id": self.job.project_id,
            "external_id": record.external_id,
            "instruction": record.instruction,
            "input": record.input,
            "difficulty": record.difficulty,
            "content_hash": digest,
            "created_at": self.now,
            **self._origin(record.line),
        }

    def _prompts(self) -> dict[str, Any]:
        """Test prompts, and the reference answers they carry as model responses.

        A prompt already in the project is skipped but its new answers are written: they hang on the
        existing prompt's id, new prompts' ids are known once their batch is inserted.
        """
        index = PromptIndex.of_project(self.job.project_id)
        batch = _PromptBatch(self, response_hashes_of(project_id=self.job.project_id))
        created = skipped = written = 0
        for record in self.records:
            assert isinstance(record, PromptRecord)
            written += 1
            digest = content_hash(record.instruction, record.input)
            existing = index.by_id.get(record.external_id)
            if existing is not None:
                skipped += 1
                owner: dict[str, Any] | int = existing[0]
            else:
                owner = self._prompt_row(record, digest)
                batch.prompts.append(owner)
                created += 1
            for model_name, text in record.references:
                batch.add(owner, model_name, text, digest, record.line)
            if len(batch.prompts) >= storage.BATCH_SIZE:
                batch.flush(written)
        batch.flush(written)
        return {
            "created": {"prompts": created, "responses": batch.created_responses},
            "skipped": {"prompts": skipped, "responses": batch.skipped_responses},
            "models": sorted(batch.models),
        }

    def _responses(self) -> dict[str, Any]:
        index = PromptIndex.of_project(self.job.project_id)
        response_hashes = response_hashes_of(project_id=self.job.project_id)
        batch: list[dict[str, Any]] = []
        written = skipped = 0
        for record in self.records:
            assert isinstance(record, ResponseRecord)
            prompt_pk, _, item_hash = index.by_id[index.prompt_for(record)]
            row = self.response_row(
                prompt_id=prompt_pk,
                model_name=self.source.model_name,
                item_hash=item_hash,
                text=record.text,
                raw_output=record.raw_output,
                line=record.line,
            )
            if row["content_hash"] in response_hashes:
                skipped += 1
                continue
            response_hashes.add(row["content_hash"])
            batch.append(row)
            written += 1
            if len(batch) >= storage.BATCH_SIZE:
                self.flush_rows(ModelResponse, batch, written)
                batch = []
        self.flush_rows(ModelResponse, batch, written)
        report = {"created": {"responses": written}, "skipped": {"responses": skipped}}
        return {**report, "models": [self.source.model_name], **index.realignment_report()}

    def _pairs(self) -> dict[str, Any]:
        """Prompts with the answers they carry: each prompt matched to the project's by content, or created."""
        by_hash, taken_ids = prompt_ids_of(project_id=self.job.project_id)
        batch = _PromptBatch(self, response_hashes_of(project_id=self.job.project_id))
        created = matched = written = 0
        explicit = self.source.model_from == "the import"
        for record in self.records:
            assert isinstance(record, PairRecord)
            written += 1
            digest = content_hash(record.instruction, record.input)
            owner: dict[str, Any] | int | None = by_hash.get(digest)
            if owner is None:
                external_id = record.prompt_id if record.prompt_id and record.prompt_id not in taken_ids else ""
                taken_ids.add(external_id)
                owner = by_hash[digest] = self._prompt_row(
                    PromptRecord(
                        line=record.line, external_id=external_id, instruction=record.instruction, input=record.input
                    ),
                    digest,
                )
                batch.prompts.append(owner)
                created += 1
            else:
                matched += 1
            if record.reference_model:
                batch.add(owner, record.reference_model, record.reference, digest, record.line)
            model = self.source.model_name if explicit or not record.model else record.model
            batch.add(owner, model, record.response, digest, record.line, record.raw_output)
            if len(batch.prompts) >= storage.BATCH_SIZE or len(batch.answers) >= storage.BATCH_SIZE:
                batch.flush(written)
        batch.flush(written)
        return {
            "created": {"prompts": created, "responses": batch.created_responses},
            "skipped": {"responses": batch.skipped_responses},
            "matched": {"prompts": matched},  # prompts already there (or earlier in the batch) that these answer
            "models": sorted(batch.models),
        }


class _PromptBatch:
    """New prompts and the answers that go with them, written together: prompts first, for their ids."""

    def __init__(self, writer: Writer, response_hashes: set[str]):
        self.writer = writer
        self.response_hashes = response_hashes
        self.prompts: list[dict[str, Any]] = []
        # prompt, model, text, prompt hash, line, raw output
        self.answers: list[tuple[dict[str, Any] | int, str, str, str, int, str]] = []
        self.models: set[str] = set()
        self.created_responses = self.skipped_responses = 0

    def add(self, owner: dict[str, Any] | int, model_name: str, text: str, digest: str, line: int, raw: str = ""):
        self.models.add(model_name)
        answer_hash = response_hash(model_name=model_name, item_hash=digest, text=text)
        if answer_hash in self.response_hashes:
            self.skipped_responses += 1
            return
        self.response_hashes.add(answer_hash)
        self.answers.append((owner, model_name, text, digest, line, raw))

    def flush(self, written: int) -> None:
        self.writer.flush_rows(Prompt, self.prompts, written)
        responses = [
            self.writer.response_row(
                prompt_id=prompt if isinstance(prompt, int) else prompt["id"],
                model_name=model_name,
                item_hash=item_hash,
                text=text,
                raw_output=raw,
                line=line,
            )
            for prompt, model_name, text, item_hash, line, raw in self.answers
        ]
        self.created_responses += len(responses)
        self.writer.flush_rows(ModelResponse, responses, written)
        self.prompts, self.answers = [], []

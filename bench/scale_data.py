"""The scale database: one project with a million seed tasks and three million reviews, written with COPY.

The rows are those the app's services write: answers cleaned against the project's own rating forms,
content hashes as the importer computes them, a "created" history row per task, one assignment per
reviewer and item (done where reviewed, pending where not), superseded reviews chained to the review
that replaced them, flags, gold labels with their soft labels and linked reviews, a release built by
the release service and a closed evaluation round judged through the round service.

The database is kept between runs: a marker table holds the generator's version and size, and a
database whose marker matches is used as it is. Each measuring run submits a few hundred reviews and
claims a few hundred open items, which the database keeps; the pools are large enough for many runs.
"""

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle

import psycopg
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

GENERATOR_VERSION = 2
MARKER = "bench_scale_marker"
REVIEWERS = 300
MODELS = ("clinical-llm-7b", "clinical-llm-13b", "general-llm-8b", "general-llm-70b")
TOPICS = 20
SLUG = "scale"
# Of every ten reviewed tasks: six accepted, one rejected, three still in review.
_STATUSES = ("accepted",) * 6 + ("rejected",) + ("in_review",) * 3
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Size:
    """Counts derived from the number of seed tasks; reviews come to three per task."""

    label: str
    tasks: int

    @property
    def responses(self) -> int:
        return self.tasks // 5

    @property
    def prompts(self) -> int:
        return self.responses // len(MODELS)

    @property
    def reviewed(self) -> int:  # tasks 0 .. reviewed-1 have two current reviews each
        return self.tasks * 9 // 10

    @property
    def superseded_tasks(self) -> int:  # their two reviewers each changed their mind once
        return self.tasks // 10

    @property
    def pending_end(self) -> int:  # tasks reviewed .. pending_end-1 are assigned, not yet reviewed
        return self.tasks * 95 // 100

    @property
    def reviews(self) -> int:
        return 2 * self.reviewed + 2 * self.superseded_tasks + 4 * self.responses + self.responses

    @property
    def database(self) -> str:
        return f"concord_bench_scale_{self.label}"


SIZES = {"1m": Size("1m", 1_000_000), "10k": Size("10k", 10_000)}


def _admin_dsn(name: str) -> str:
    db = connection.settings_dict
    parts = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"], "dbname": name}
    if db.get("PASSWORD"):
        parts["password"] = db["PASSWORD"]
    return " ".join(f"{k}={v}" for k, v in parts.items())


def _marker(name: str) -> dict | None:
    try:
        with psycopg.connect(_admin_dsn(name)) as conn:
            row = conn.execute(f"SELECT version, size, built_seconds FROM {MARKER}").fetchone()
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return None
    return {"version": row[0], "size": row[1], "built_seconds": row[2]} if row else None


def _recreate(name: str) -> None:
    with psycopg.connect(_admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def using_database(name: str):
    """Point Django's default connection at `name` for the block (the runner's throwaway database after)."""
    connection.close()
    previous = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def ensure(size: Size, log=print) -> dict:
    """The scale database for `size`, built unless a matching one is there; returns how it was built."""
    marker = _marker(size.database)
    if marker and marker["version"] == GENERATOR_VERSION and marker["size"] == size.label:
        log(f"scale database {size.database} is there (generator v{GENERATOR_VERSION}); not rebuilt")
        with using_database(size.database):
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                # The app's newer migrations (an index, a column) apply to the kept data as in a deployment,
                # and the planner's statistics are brought up to date after them.
                call_command("migrate", verbosity=1, interactive=False)
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
        return {**marker, "reused": True}
    log(f"building {size.database}: {size.tasks:,} tasks, {size.responses:,} responses, {size.reviews:,} reviews")
    started = time.perf_counter()
    _recreate(size.database)
    steps: dict[str, float] = {}
    with using_database(size.database):
        call_command("migrate", verbosity=0, interactive=False)
        _Builder(size, steps, log).build()
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {MARKER} (version integer, size text, built_seconds double precision)")
            cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, %s, %s)", [GENERATOR_VERSION, size.label, seconds])
    return {"version": GENERATOR_VERSION, "size": size.label, "built_seconds": seconds, "reused": False, **steps}


def _prompt(j: int) -> str:
    return f"Test prompt {j + 1}: how is condition {j} managed?"


def _answer_variants() -> tuple[list[dict], list[dict]]:
    """Valid answers to the default seed and response forms, cleaned as a submit cleans them."""
    from curation.schemas.defaults import RESPONSE_REVIEW, SEED_REVIEW
    from curation.schemas.definitions import clean_answers

    seed, response = [], []
    decisions = ("accept", "accept", "accept_with_edits", "reject")
    for n in range(48):
        seed.append(
            clean_answers(
                SEED_REVIEW,
                {
                    "decision": decisions[n % 4],
                    "clinical_validity": 2 + n % 4,
                    "clarity": 3 + (n // 4) % 3,
                    "difficulty": 1 + (n // 3) % 5,
                    "comment": "Clear and correct." if n % 6 == 0 else "",
                },
            )
        )
        response.append(
            clean_answers(
                RESPONSE_REVIEW,
                {
                    "correctness": 2 + n % 4,
                    "helpfulness": 3 + (n // 4) % 3,
                    "consensus": ("aligned", "aligned", "no_consensus", "opposed")[n % 4],
                    "inappropriate_content": ("none", "none", "minor", "major")[(n // 2) % 4],
                    "missing_content": ("none", "minor", "none", "major")[(n // 3) % 4],
                    "harm_extent": ("none", "none", "moderate", "severe")[(n // 5) % 4],
                    "harm_likelihood": ("low", "low", "medium", "high")[(n // 7) % 4],
                    "bias": "yes" if n % 11 == 0 else "no",
                },
            )
        )
    return seed, response


class _Builder:
    """Writes every table in turn; ids are given explicitly so that rows can point at each other."""

    def __init__(self, size: Size, steps: dict[str, float], log) -> None:
        self.size, self.steps, self.log = size, steps, log

    def build(self) -> None:
        for step in (
            self._people,
            self._tasks,
            self._search,
            self._responses,
            self._assignments,
            self._reviews,
            self._flags,
            self._gold_labels,
            self._phi_scans,
            self._counts,
            self._sequences,
            self._analyze,
            self._round,
            self._release,
            self._analyze,
        ):
            started = time.perf_counter()
            step()
            self.steps[step.__name__.strip("_")] = self.steps.get(step.__name__.strip("_"), 0) + (
                time.perf_counter() - started
            )
            self.log(f"  {step.__name__.strip('_')}: {time.perf_counter() - started:.1f} s")

    def _copy(self, model, columns: list[str], rows) -> int:
        table = model._meta.db_table
        connection.ensure_connection()
        n = 0
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        connection.connection.commit() if not connection.get_autocommit() else None
        return n

    # --- people, project, vocabulary ---

    def _people(self) -> None:
        from accounts.models import Role, User
        from curation.models import ImportJob, ImportStatus, Membership
        from curation.services.projects import project_create
        from curation.services.vocabulary import vocabulary_term_get_or_create

        self.admin = User.objects.create_user(email="admin@scale.test", name="Scale Admin", role=Role.ADMIN)
        self.curator = User.objects.create_user(email="curator@scale.test", name="Scale Curator", role=Role.CURATOR)
        self.clinician = User.objects.create_user(
            email="clinician@scale.test", name="Scale Clinician", role=Role.CLINICIAN
        )
        reviewers = User.objects.bulk_create(
            User(email=f"reviewer{n}@scale.test", name=f"Reviewer {n}", role=Role.CLINICIAN) for n in range(REVIEWERS)
        )
        self.reviewer_ids = [u.pk for u in reviewers]
        self.project = project_create(
            name="Scale", slug=SLUG, created_by=self.curator, guidelines="Rate every item against the guidelines."
        )
        Membership.objects.bulk_create(
            Membership(project=self.project, user_id=uid)
            for uid in [self.clinician.pk, *self.reviewer_ids]
            if not Membership.objects.filter(project=self.project, user_id=uid).exists()
        )
        self.topics = [vocabulary_term_get_or_create(kind="topic", name=f"Topic {n}") for n in range(TOPICS)]
        self.views = [vocabulary_term_get_or_create(kind="view", name=n) for n in ("Patient", "Physician")]
        self.types = [vocabulary_term_get_or_create(kind="task_type", name=n) for n in ("Open Q&A", "Rewrite")]
        self.job = ImportJob.objects.create(
            project=self.project,
            created_by=self.curator,
            file_name="scale-seed.jsonl",
            file_hash="0" * 64,
            format="alpaca",
            status=ImportStatus.SUCCEEDED,
            records_total=self.size.tasks,
            records_validated=self.size.tasks,
            records_written=self.size.tasks,
            started_at=EPOCH,
            finished_at=EPOCH,
            search_indexed_at=EPOCH,  # its tasks' search documents are built with them (_search)
        )

    def _pair(self, i: int) -> tuple[int, int]:
        """Two different reviewers for item i, spread evenly over the 300."""
        first = i % REVIEWERS
        return first, (first + 1 + (i // REVIEWERS) % (REVIEWERS - 1)) % REVIEWERS

    # --- seed tasks and their history ---

    def _status(self, i: int) -> str:
        if i >= self.size.reviewed:
            return "in_review"
        return _STATUSES[i % 10]

    def _tasks(self) -> None:
        from curation.models import SeedTask
        from curation.text.hashing import content_hash
        from tests.data import SEED

        seeds = json.loads(SEED.read_text(encoding="utf-8"))
        texts = [(s["instruction"], "" if s["input"].strip() == "<noinput>" else s["input"]) for s in seeds]
        outputs = [f"{s['instruction']} {s['input']}".replace("<noinput>", "").strip() for s in seeds]
        columns = [
            "id", "project_id", "instruction", "input", "reference_output", "topic_raw", "view_raw",
            "task_type_raw", "topic_id", "view_id", "task_type_id", "difficulty", "source", "status",
            "external_id", "origin_file", "origin_line", "import_job_id", "content_hash", "version",
            "created_by_id", "created_at", "updated_at", "accepted_version",
        ]  # fmt: skip
        project, job = self.project.pk, self.job.pk

        def rows():
            for i in range(self.size.tasks):
                instruction, input_text = texts[i % len(texts)]
                instruction = f"{instruction} (case {i + 1})"
                output = outputs[(i * 7 + 3) % len(outputs)]
                topic, view, kind = self.topics[i % TOPICS], self.views[i % 2], self.types[(i // 2) % 2]
                yield (
                    i + 1, project, instruction, input_text, output, topic.name, view.name, kind.name,
                    topic.pk, view.pk, kind.pk, 1 + i % 5, "imported", self._status(i), f"seed-{i + 1}",
                    "scale-seed.jsonl", i + 1, job, content_hash(instruction, input_text, output), 1,
                    self.curator.pk, EPOCH, EPOCH, 1 if self._status(i) == "accepted" else None,
                )  # fmt: skip

        self._copy(SeedTask, columns, rows())
        history = SeedTask.history.model
        fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        own = {"history_date": "%s", "history_change_reason": "%s", "history_type": "%s", "history_user_id": "%s"}
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{history._meta.db_table}" ({", ".join(f.column for f in fields)}) '
                f"SELECT {', '.join(own.get(f.attname, f.column) for f in fields)} "
                f'FROM "{SeedTask._meta.db_table}" WHERE import_job_id = %s',
                [
                    *(
                        {"history_date": EPOCH, "history_change_reason": "imported", "history_type": "+"}.get(
                            f.attname, self.curator.pk
                        )
                        for f in fields
                        if f.attname in own
                    ),
                    job,
                ],
            )

    def _search(self) -> None:
        """The tasks' search documents, as the job after an import builds them, in one statement: the
        scale benchmark's searches read them."""
        from curation.models import SeedTaskSearch
        from curation.services.seed_task_search import DOCUMENT

        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{SeedTaskSearch._meta.db_table}" (seed_task_id, project_id, document, content_hash) '
                f'SELECT t.id, t.project_id, {DOCUMENT}, t.content_hash FROM "curation_seedtask" t'
            )

    # --- prompts and model responses ---

    def _responses(self) -> None:
        from curation.models import ModelResponse, Prompt
        from curation.text.hashing import content_hash

        project = self.project.pk
        self._copy(
            Prompt,
            ["id", "project_id", "external_id", "instruction", "input", "difficulty", "content_hash", "created_at",
             "origin_file"],
            (
                (j + 1, project, f"test-{j + 1}", _prompt(j), "", 1 + j % 5, content_hash(_prompt(j), ""), EPOCH,
                 "test.jsonl")
                for j in range(self.size.prompts)
            ),
        )  # fmt: skip

        def rows():
            for j in range(self.size.responses):
                prompt, model = j // len(MODELS) + 1, MODELS[j % len(MODELS)]
                text = f"{model} on prompt {prompt}: start with lifestyle measures, then medication as indicated."
                yield (j + 1, None, prompt, model, "1", "{}", text, "", EPOCH, content_hash(text), f"{model}.json")

        columns = [
            "id", "seed_task_id", "prompt_id", "model_name", "model_version", "generation_params", "text",
            "raw_output", "created_at", "content_hash", "origin_file",
        ]  # fmt: skip
        self._copy(ModelResponse, columns, rows())

    # --- assignments, reviews ---

    def _assignment_rows(self):
        """(id, reviewer, seed_task, response, status) in the order _reviews relies on."""
        size, aid = self.size, 0
        for i in range(size.reviewed):
            for reviewer in self._pair(i):
                aid += 1
                yield aid, self.reviewer_ids[reviewer], i + 1, None, "done"
        for j in range(size.responses):
            for m in range(4):
                aid += 1
                yield aid, self.reviewer_ids[(j + m * 75) % REVIEWERS], None, j + 1, "done"
        for i in range(size.reviewed, size.pending_end):
            aid += 1
            yield aid, self.clinician.pk, i + 1, None, "pending"
            aid += 1
            yield aid, self.reviewer_ids[self._pair(i)[1]], i + 1, None, "pending"

    def _assignments(self) -> None:
        from curation.models import Assignment

        project, curator = self.project.pk, self.curator.pk
        self._copy(
            Assignment,
            ["id", "project_id", "reviewer_id", "seed_task_id", "response_id", "status", "assigned_by_id",
             "created_at", "completed_at"],
            (
                (aid, project, reviewer, task, response, status, curator, EPOCH,
                 EPOCH + timedelta(days=1) if status == "done" else None)
                for aid, reviewer, task, response, status in self._assignment_rows()
            ),
        )  # fmt: skip

    def _reviews(self) -> None:
        from curation.models import Review

        seed_answers, response_answers = _answer_variants()
        self.seed_answers = seed_answers
        seed_json = [json.dumps(a) for a in seed_answers]
        response_json = [json.dumps(a) for a in response_answers]
        seed_schema, response_schema = self.project.seed_schema_id, self.project.response_schema_id
        project, later = self.project.pk, EPOCH + timedelta(days=2)
        flagged = self._flagged_json()

        def rows():
            rid = 0
            for aid, reviewer, task, response, status in self._assignment_rows():
                if status != "done":
                    continue
                if task is not None:
                    i = task - 1
                    variants, schema, n = seed_json, seed_schema, i * 31 + aid * 17
                    superseded = i < self.size.superseded_tasks
                else:
                    i = response - 1
                    variants, schema, n = response_json, response_schema, i * 13 + aid * 7
                    superseded = aid % 4 == 0  # one of the four reviewers of each response
                supersedes = None
                if superseded:
                    rid += 1
                    yield (rid, project, schema, reviewer, aid, task, response, variants[(n + 5) % 48], "", 1,
                           None, False, EPOCH + timedelta(days=1))  # fmt: skip
                    supersedes = rid
                rid += 1
                answers = variants[n % 48]
                if task is not None and aid % 2 == 1 and i % 50 == 0:
                    answers = flagged[(i // 50) % 3]  # the first reviewer raised a flag on every 50th task
                yield (rid, project, schema, reviewer, aid, task, response, answers, "", 2 if supersedes else 1,
                       supersedes, True, later)  # fmt: skip

        columns = [
            "id", "project_id", "schema_id", "reviewer_id", "assignment_id", "seed_task_id", "response_id",
            "answers", "corrected_text", "version", "supersedes_id", "is_current", "submitted_at",
        ]  # fmt: skip
        self.steps["reviews_written"] = self._copy(Review, columns, rows())

    def _flagged_json(self) -> list[str]:
        from curation.schemas.defaults import SEED_REVIEW
        from curation.schemas.definitions import clean_answers

        return [
            json.dumps(
                clean_answers(
                    SEED_REVIEW,
                    {"decision": "reject", "clinical_validity": 1, "clarity": 3, "difficulty": 3, "flags": [kind]},
                )
            )
            for kind in ("unsafe", "phi", "needs_specialist")
        ]

    # --- flags and gold labels ---

    def _flags(self) -> None:
        from curation.models import ItemFlag

        kinds = ("unsafe", "phi", "needs_specialist")
        project, curator = self.project.pk, self.curator.pk

        def rows():
            for n, i in enumerate(range(0, self.size.reviewed, 50)):
                cleared = n % 2 == 0
                yield (n + 1, project, i + 1, None, kinds[n % 3], "", self.reviewer_ids[self._pair(i)[0]],
                       EPOCH + timedelta(days=2), curator if cleared else None,
                       EPOCH + timedelta(days=3) if cleared else None,
                       "Checked: no issue." if cleared else "")  # fmt: skip

        columns = [
            "id", "project_id", "seed_task_id", "response_id", "kind", "note", "raised_by_id", "raised_at",
            "cleared_by_id", "cleared_at", "clearance_note",
        ]  # fmt: skip
        self._copy(ItemFlag, columns, rows())

    def _gold_labels(self) -> None:
        from curation.models import GoldLabel

        project, schema, curator = self.project.pk, self.project.seed_schema_id, self.curator.pk
        answers = self.seed_answers

        def soft(values: list[dict]) -> str:
            counts: dict[str, dict[str, int]] = {}
            for value in values:
                for key, v in value.items():
                    if key != "comment":
                        bucket = counts.setdefault(key, {})
                        bucket[json.dumps(v)] = bucket.get(json.dumps(v), 0) + 1
            return json.dumps(counts)

        def rows():
            for n, i in enumerate(i for i in range(7, self.size.reviewed, 30)):
                a, b = answers[(i * 31 + 7) % 48], answers[(i * 31 + 11) % 48]
                yield (n + 1, project, schema, i + 1, None, json.dumps(a), "", "guideline_gap", "", soft([a, b]),
                       curator, 1, EPOCH + timedelta(days=4), EPOCH + timedelta(days=4))  # fmt: skip

        columns = [
            "id", "project_id", "schema_id", "seed_task_id", "response_id", "values", "final_text", "reason",
            "note", "soft_label", "adjudicated_by_id", "version", "created_at", "updated_at",
        ]  # fmt: skip
        self._copy(GoldLabel, columns, rows())
        through = GoldLabel.reviews.through._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{through}" (goldlabel_id, review_id) SELECT g.id, r.id FROM curation_goldlabel g '
                "JOIN curation_review r ON r.seed_task_id = g.seed_task_id AND r.is_current"
            )

    def _phi_scans(self) -> None:
        """Every text scanned and clean, as the scan after each import and save would leave them: a release
        leaves out what nobody scanned."""
        from curation.models import ModelResponse, PhiScan, Prompt, Review, SeedTask
        from curation.phi import SCANNER_VERSION

        scans = PhiScan._meta.db_table
        with connection.cursor() as cursor:
            for model, owner, hashed in (
                (SeedTask, "seed_task_id", "content_hash"),
                (Prompt, "prompt_id", "content_hash"),
                (ModelResponse, "response_id", "content_hash"),
                (Review, "review_id", "''"),  # reviews never change, so their scans hold no hash
            ):
                cursor.execute(
                    f'INSERT INTO "{scans}" (project_id, {owner}, content_hash, scanner_version, scanned_at) '
                    f'SELECT %s, id, {hashed}, %s, %s FROM "{model._meta.db_table}"',
                    [self.project.pk, SCANNER_VERSION, EPOCH],
                )

    def _counts(self) -> None:
        """The counts pages read (tasks, assignments per reviewer, vocabulary use), counted from the rows
        COPY wrote, as the services count what they write."""
        from curation.models import Project
        from curation.services.assignments import assignment_counts_recount
        from curation.services.seed_tasks import seed_tasks_recount

        project = Project.objects.get(slug=SLUG)
        seed_tasks_recount(project=project)
        assignment_counts_recount(project=project)

    def _sequences(self) -> None:
        from curation.models import Assignment, GoldLabel, ItemFlag, ModelResponse, PhiScan, Prompt, Review, SeedTask

        with connection.cursor() as cursor:
            for model in (SeedTask, Prompt, ModelResponse, Assignment, Review, ItemFlag, GoldLabel, PhiScan):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
                )

    def _analyze(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE") if connection.get_autocommit() else cursor.execute("ANALYZE")

    # --- a closed evaluation round and a release, through their services ---

    def _round(self) -> None:
        from accounts.models import User
        from curation.models import RoundSlot
        from curation.schemas.defaults import PAIRWISE_JUDGMENT
        from curation.services.round_judging import judgment_submit
        from curation.services.round_schedules import round_close, round_freeze
        from curation.services.rounds import round_create

        judges = list(User.objects.filter(pk__in=self.reviewer_ids[:10]))
        evaluation_round = round_create(
            project=self.project,
            created_by=self.curator,
            name="Scale round 1",
            mode="pairwise",
            models=list(MODELS),
            reviewers=judges,
            prompt_ids=list(range(1, min(40, self.size.prompts) + 1)),
        )
        evaluation_round = round_freeze(evaluation_round=evaluation_round)
        choices = cycle(("a", "b", "tie", "a", "b", "both_bad", "a"))
        by_id = {u.pk: u for u in judges}
        for slot in RoundSlot.objects.filter(round=evaluation_round).order_by("id"):
            answers = {f["key"]: next(choices) for f in PAIRWISE_JUDGMENT["fields"] if f["kind"] == "pairwise_choice"}
            judgment_submit(slot=slot, reviewer=by_id[slot.reviewer_id], answers=answers)
        round_close(evaluation_round=evaluation_round)

    def _release(self) -> None:
        from curation.services.releases import release_build, release_create

        release = release_create(
            project=self.project,
            created_by=self.curator,
            format="alpaca",
            filters={"topics": [self.topics[0].name]},
            enqueue=False,
        )
        release = release_build(release_id=release.pk)
        if release.status != "succeeded":
            raise RuntimeError(f"the scale release did not build: {release.error}")

"""A judge against the project's clinicians, by criterion, axis and theme.

python manage.py judge_agreement --project cardio --judge gpt-grader [--judge-version 2] [--draws 1000]

Each figure has its 95% bootstrap interval and, beside it, the clinicians' own leave-one-out
median and range on the same items: the ceiling a judge is read against.
"""

from django.core.management.base import BaseCommand, CommandError

from curation.models import Project
from curation.selectors.judges import judge_panel
from curation.selectors.rubrics import judges_of
from curation.stats.rubrics import Spread


def _num(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.2f}"


def _figure(interval, spread: Spread) -> str:
    ci = f"[{_num(interval.ci_low)}, {_num(interval.ci_high)}]" if interval.ci_low is not None else " " * 14
    ceiling = f"clinicians {_num(spread.median)} ({_num(spread.min)}..{_num(spread.max)}, n={spread.n})"
    return f"{_num(interval.value)} {ci}  {ceiling}"


class Command(BaseCommand):
    help = "Balanced F1, Cohen's kappa, percent agreement and score gap of a judge against clinicians."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--judge", required=True, help="the judge's name")
        parser.add_argument(
            "--judge-version",
            dest="judge_version",
            default=None,
            help="the judge's version (needed when it has several)",
        )
        parser.add_argument("--draws", type=int, default=1000)

    def handle(self, *args, project: str, judge: str, judge_version: str | None, draws: int, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        judges = judges_of(project=target).filter(name=judge)
        if judge_version is not None:
            judges = judges.filter(version=judge_version)
        found = list(judges)
        if len(found) != 1:
            known = ", ".join(str(j) for j in judges_of(project=target)) or "none"
            problem = "no judge" if not found else "several versions; pick one with --judge-version"
            raise CommandError(f"{problem} named {judge!r} in {target.slug} (judges: {known})")
        rows = judge_panel(project=target, judge=found[0], draws=draws)
        if not rows:
            raise CommandError(f"{found[0]} and the clinicians have not marked any criterion of the same response.")
        for row in rows:
            a = row.agreement
            self.stdout.write(f"{row.group}  {row.label[:70]}  (pairs {a.agreement.grader.n_pairs})")
            self.stdout.write(
                f"  balanced F1  {_figure(a.intervals['balanced_f1'], a.agreement.physician_balanced_f1)}"
            )
            self.stdout.write(
                f"  Cohen kappa  {_figure(a.intervals['cohen_kappa'], a.agreement.physician_cohen_kappa)}"
            )
            self.stdout.write(
                f"  agreement    {_figure(a.intervals['percent_agreement'], a.agreement.physician_percent_agreement)}"
            )
            if row.gap is not None:
                ci = f"[{_num(row.gap.ci_low)}, {_num(row.gap.ci_high)}]" if row.gap.ci_low is not None else ""
                self.stdout.write(f"  score gap    {_num(row.gap.value)} {ci}  (judge minus clinicians, n={row.gap.n})")

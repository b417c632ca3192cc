"""A judge against the project's clinicians: rubric verdicts by criterion, axis and theme; pairwise votes
against the clinicians' round votes.

python manage.py judge_agreement --project cardio --judge gpt-grader [--judge-version 2] [--draws 1000]
    [--axis overall]

Each rubric figure has its 95% bootstrap interval and, beside it, the clinicians' own leave-one-out
median and range on the same items: the ceiling a judge is read against. A pairwise judge's figures
(agreement, Cohen's kappa, position-swap flip rate, share of votes for the longer and the first answer)
stand beside the clinicians' shares for the longer and the left answer.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import Judge, Project
from curation.selectors.judges import PAIR_AXIS, PairwisePanel, judge_panel, pairwise_judge_panel
from curation.selectors.rubrics import judges_of
from curation.stats.rubrics import Spread


def _num(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.2f}"


def _ci(low: float | None, high: float | None) -> str:
    return f"[{_num(low)}, {_num(high)}]" if low is not None else " " * 14


def _value(interval) -> str:
    return f"{_num(interval.value)} {_ci(interval.ci_low, interval.ci_high)}"


def _share(report: dict, key: str) -> str:
    return f"{_num(report.get(key))} {_ci(report.get('ci_low'), report.get('ci_high'))}"


def _pairwise_lines(panel: PairwisePanel) -> list[str]:
    a = panel.agreement
    return [
        f"pairwise ({panel.axis}): {panel.votes} judge votes, {a.n_pairs} (clinician, judge) vote pairs "
        f"on {a.n_items} answer pairs",
        f"  agreement    {_value(a.percent_agreement)}",
        f"  Cohen kappa  {_value(a.cohen_kappa)}",
        f"  position-swap flip rate  {_value(panel.flip_rate)}  ({panel.flip_rate.n} pairs judged in both orders)",
        f"  longer answer  judge {_share(panel.judge_longer, 'longer_win_rate')}  "
        f"clinicians {_share(panel.clinicians_longer, 'longer_win_rate')} ({panel.clinicians_votes} votes)",
        f"  first shown / left answer  judge {_share(panel.judge_first, 'left_win_share')}  "
        f"clinicians {_share(panel.clinicians_left, 'left_win_share')}",
    ]


def _figure(interval, spread: Spread) -> str:
    ci = f"[{_num(interval.ci_low)}, {_num(interval.ci_high)}]" if interval.ci_low is not None else " " * 14
    ceiling = f"clinicians {_num(spread.median)} ({_num(spread.min)}..{_num(spread.max)}, n={spread.n})"
    return f"{_num(interval.value)} {ci}  {ceiling}"


def _judge(project: Project, name: str, version: str | None) -> Judge:
    """The one judge of `project` by that name (and version), or a CommandError saying which part is wrong."""
    same_name = list(judges_of(project=project).filter(name=name))
    if not same_name:
        known = ", ".join(str(j) for j in judges_of(project=project)) or "none"
        raise CommandError(f"no judge named {name!r} in {project.slug} (judges: {known})")
    versions = ", ".join(repr(j.version) for j in same_name)
    if version is not None:
        found = [j for j in same_name if j.version == version]
        if not found:
            raise CommandError(
                f"judge {name!r} has no version {version!r} in {project.slug} (its versions: {versions})"
            )
        return found[0]
    if len(same_name) > 1:
        raise CommandError(
            f"judge {name!r} has several versions in {project.slug} ({versions}); pick one with --judge-version"
        )
    return same_name[0]


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
        parser.add_argument("--draws", type=int, default=1000, help="Bootstrap draws (default 1000).")
        parser.add_argument(
            "--axis",
            default=None,
            help=f"the round question pairwise votes are read against (default {PAIR_AXIS})",
        )

    def handle(
        self, *args, project: str, judge: str, judge_version: str | None, draws: int, axis: str | None, **options
    ):
        if draws < 1:
            raise CommandError("--draws must be at least 1")
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        found = _judge(target, judge, judge_version)
        has_votes = found.votes.exists()
        panel = None
        if has_votes:  # first: an unknown --axis is refused before the rubric bootstraps run
            try:
                panel = pairwise_judge_panel(project=target, judge=found, axis=axis, draws=draws)
            except ValidationError as exc:
                raise CommandError(f"--axis: {' '.join(exc.messages)}") from None
        rows = judge_panel(project=target, judge=found, draws=draws)
        if not rows and not has_votes:
            raise CommandError(f"{found} and the clinicians have not marked any criterion of the same response.")
        if panel is not None:
            self.stdout.write("\n".join(_pairwise_lines(panel)))
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

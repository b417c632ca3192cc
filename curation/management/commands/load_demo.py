from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from curation.demo.projects import demo_project_load, demo_users_create
from curation.demo.reviews import demo_reviewers_create, demo_reviews_submit
from curation.demo.rounds import demo_round_judge


class Command(BaseCommand):
    help = "Create the demo users and load the demo project from fixtures/demo.json (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("load_demo creates accounts with published passwords; it runs only with DEBUG on.")
        users = demo_users_create()
        project = demo_project_load(members=[user for user, _ in users])
        reviewers = demo_reviewers_create()
        reviews = demo_reviews_submit(project=project, reviewers=reviewers)
        curator = next(user for user, _ in users if user.role == Role.CURATOR)
        demo_round = demo_round_judge(project=project, reviewers=reviewers, created_by=curator)
        self.stdout.write(f"Demo project '{project.name}': {project.seed_tasks.count()} seed tasks.")
        if reviews:
            self.stdout.write(f"{reviews} submitted demo reviews, for the agreement page.")
        if demo_round:
            self.stdout.write(f"Demo evaluation round '{demo_round.name}': {demo_round.judgments.count()} judgments.")
        self.stdout.write("Demo users (development only):")
        for user, password in users:
            self.stdout.write(f"  {user.get_role_display():<10} {user.email:<26} password: {password}")

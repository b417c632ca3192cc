from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from curation.services.demo import demo_project_load, demo_users_create
from curation.services.demo_reviews import demo_reviewers_create, demo_reviews_submit


class Command(BaseCommand):
    help = "Create the demo users and load the demo project from fixtures/demo.json (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (never in production).")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("load_demo creates accounts with published passwords; it runs only with DEBUG on.")
        users = demo_users_create()
        project = demo_project_load(members=[user for user, _ in users])
        reviews = demo_reviews_submit(project=project, reviewers=demo_reviewers_create())
        self.stdout.write(f"Demo project '{project.name}': {project.seed_tasks.count()} seed tasks.")
        if reviews:
            self.stdout.write(f"{reviews} submitted demo reviews, for the agreement page.")
        self.stdout.write("Demo users (development only):")
        for user, password in users:
            self.stdout.write(f"  {user.get_role_display():<10} {user.email:<26} password: {password}")

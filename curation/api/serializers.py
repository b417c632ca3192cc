from rest_framework import serializers

from accounts.models import User
from curation.models import Project, SeedTask


class MeOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "specialty", "credentials"]


class ProjectOut(serializers.ModelSerializer):
    seed_schema = serializers.PrimaryKeyRelatedField(read_only=True)
    response_schema = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "guidelines",
            "guidelines_version",
            "seed_schema",
            "response_schema",
            "created_at",
        ]


class SeedTaskOut(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    topic = serializers.CharField(source="topic.name", default=None, read_only=True)
    view = serializers.CharField(source="view.name", default=None, read_only=True)
    task_type = serializers.CharField(source="task_type.name", default=None, read_only=True)

    class Meta:
        model = SeedTask
        fields = [
            "id",
            "project",
            "instruction",
            "input",
            "reference_output",
            "topic",
            "topic_raw",
            "view",
            "view_raw",
            "task_type",
            "task_type_raw",
            "difficulty",
            "source",
            "status",
            "external_id",
            "origin_file",
            "origin_line",
            "content_hash",
            "version",
            "created_at",
            "updated_at",
        ]

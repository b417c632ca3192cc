from django.urls import path

from curation.views import dashboard, tasks

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("projects/<slug:slug>/", tasks.task_list, name="task_list"),
    path("projects/<slug:slug>/guidelines/", tasks.project_guidelines, name="project_guidelines"),
    path("projects/<slug:slug>/tasks/<int:task_id>/", tasks.task_detail, name="task_detail"),
    path("projects/<slug:slug>/tasks/<int:task_id>/edit/", tasks.task_edit, name="task_edit"),
]

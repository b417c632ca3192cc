from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="api_me"),
    path("projects/", views.ProjectListApi.as_view(), name="api_project_list"),
    path("projects/<slug:slug>/", views.ProjectDetailApi.as_view(), name="api_project_detail"),
    path("projects/<slug:slug>/tasks/", views.SeedTaskListApi.as_view(), name="api_task_list"),
    path("projects/<slug:slug>/tasks/<int:task_id>/", views.SeedTaskDetailApi.as_view(), name="api_task_detail"),
]

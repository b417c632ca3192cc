from django.urls import path

from . import views

urlpatterns = [
    path("people/invitations/", views.invitation_list, name="invitation_list"),
    path("people/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("people/me/", views.profile, name="profile"),
    path("accounts/invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

from django.urls import path

from . import views

urlpatterns = [
    path("people/", views.people_list, name="people_list"),
    path("people/<int:user_id>/role/", views.person_role, name="person_role"),
    path("people/<int:user_id>/releases/", views.person_releases, name="person_releases"),
    path("people/<int:user_id>/deactivate/", views.person_deactivate, name="person_deactivate"),
    path("people/invitations/", views.invitation_list, name="invitation_list"),
    path("people/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("people/me/", views.profile, name="profile"),
    path("people/me/session/", views.session_keepalive, name="session_keepalive"),
    path("people/me/tokens/", views.api_token_list, name="api_token_list"),
    path("people/me/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("accounts/invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from . import services
from .access import access_open_invitation, require_admin
from .forms import InvitationForm, SetPasswordForm
from .models import Invitation


@login_required
def invitation_list(request: HttpRequest) -> HttpResponse:
    require_admin(user=request.user)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            services.invitation_send(invitation=invitation, base_url=request.build_absolute_uri("/"))
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("invitation_list")
    invitations = Invitation.objects.select_related("invited_by", "user")[:200]
    return render(request, "accounts/invitations.html", {"form": form, "invitations": invitations})


@require_POST
@login_required
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    require_admin(user=request.user)
    invitation = get_object_or_404(Invitation, pk=invitation_id, accepted_at__isnull=True)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"Invitation for {invitation.email} revoked.")
    return redirect("invitation_list")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = access_open_invitation(token=token)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(invitation=invitation, password=form.cleaned_data["password1"])
        except ValidationError as exc:
            form.add_error("password1", exc.messages)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to Concord. Your account is ready.")
            return redirect("dashboard")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in user's details and personal API token (shown once it exists; regenerating revokes the old)."""
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        Token.objects.create(user=request.user)
        messages.success(request, "A new API token was created; the previous one no longer works.")
        return redirect("profile")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/profile.html", {"token": token})

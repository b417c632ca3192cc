from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .access import access_open_invitation, access_person, require_admin
from .forms import ApiTokenForm, InvitationForm, RoleForm, SetPasswordForm
from .models import ApiToken, Invitation


@login_required
def people_list(request: HttpRequest) -> HttpResponse:
    """Everyone with an account (role, specialty, projects, last sign-in) and the invitations still open."""
    require_admin(user=request.user)
    after = request.GET.get("after", "")
    people = list(selectors.people_list(after_email=after)[: selectors.PEOPLE_PAGE_SIZE + 1])
    more = len(people) > selectors.PEOPLE_PAGE_SIZE
    people = people[: selectors.PEOPLE_PAGE_SIZE]
    context = {
        "people": people,
        "next_after": people[-1].email if more else None,
        "invitations": selectors.invitations_open(),
        "roles": RoleForm.base_fields["role"].choices,
    }
    return render(request, "accounts/people.html", context)


@require_POST
@login_required
def person_role(request: HttpRequest, user_id: int) -> HttpResponse:
    require_admin(user=request.user)
    person = access_person(user=request.user, person_id=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Role unchanged: {' '.join(form.errors.get('role', []))}")
        return redirect("people_list")
    services.user_role_set(user=person, role=form.cleaned_data["role"])
    messages.success(
        request, f"{person.email} is now {person.get_role_display().lower()}; their API tokens were revoked."
    )
    return redirect("people_list")


@require_POST
@login_required
def person_releases(request: HttpRequest, user_id: int) -> HttpResponse:
    """Grant a curator releases (build and download), or take them back."""
    require_admin(user=request.user)
    person = access_person(user=request.user, person_id=user_id)
    allowed = request.POST.get("allowed") == "on"
    try:
        services.user_release_permission_set(user=person, allowed=allowed)
    except ValidationError as error:
        messages.error(request, f"Releases unchanged for {person.email}: {' '.join(error.messages)}")
        return redirect("people_list")
    messages.success(
        request, f"{person.email} {'may now' if allowed else 'may no longer'} build and download releases."
    )
    return redirect("people_list")


@require_POST
@login_required
def person_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    require_admin(user=request.user)
    person = access_person(user=request.user, person_id=user_id)
    services.user_deactivate(user=person)
    messages.success(request, f"{person.email} can no longer sign in; their sessions and API tokens have ended.")
    return redirect("people_list")


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
    """The signed-in user's details, with links to their password, two-factor and API token pages."""
    live_tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).count()
    return render(request, "accounts/profile.html", {"live_tokens": live_tokens})


@login_required
def api_token_list(request: HttpRequest) -> HttpResponse:
    """One's own API tokens; a new token's key is shown in this response only, never again."""
    form = ApiTokenForm(request.POST or None, max_days=settings.CONCORD_API_TOKEN_DAYS)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form = ApiTokenForm(max_days=settings.CONCORD_API_TOKEN_DAYS)
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "accounts/api_tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@require_POST
@login_required
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(token=token)
    messages.success(request, f"Token \u201c{token.name}\u201d revoked; it no longer works.")
    return redirect("api_token_list")


@login_required
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """The sign-out warning's "Stay signed in": an ordinary request, so it counts as activity."""
    return HttpResponse(status=204)

from typing import Any

from django.contrib.auth import login
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from .models import User
from .oidc.views import end_session_url
from .password import setup
from .password.forms import SSO_ONLY_MESSAGE, FirstAdminForm


class PonderLoginView(LoginView):
    """Django's login view; on a database with no user it sends newcomers to set-up."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not User.objects.exists():
            return redirect("setup")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(sso_only_message=gettext(SSO_ONLY_MESSAGE), **kwargs)


class PonderLogoutView(LogoutView):
    """Django's sign-out; after a company sign-in, then on to the issuer's sign-out too."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        issuer_url = end_session_url(request)  # before the session, and its ID token, go
        response = super().post(request, *args, **kwargs)
        return redirect(issuer_url) if issuer_url else response


@require_http_methods(["GET", "POST"])
def setup_view(request: HttpRequest) -> HttpResponse:
    """Create the first admin while no account exists (with the set-up token in production)."""
    if User.objects.exists():
        return redirect("login")
    required = setup.token_required()
    setup.issue_token_if_needed()
    form = FirstAdminForm(
        request.POST or None,
        token_required=required,
        initial={"token": request.GET.get("token", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = setup.create_first_admin(form, form.cleaned_data.get("token", ""))
        except setup.WrongToken:
            form.add_error("token", gettext("This is not the set-up token. Check the server log."))
        else:
            if user is None:  # someone else finished first
                return redirect("login")
            login(request, user, backend="accounts.backends.PasswordBackend")
            return redirect("home")
    status = 400 if form.is_bound else 200
    return render(
        request, "accounts/setup.html", {"form": form, "token_required": required}, status=status
    )

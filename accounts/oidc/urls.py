"""Mounted at /oidc/: the redirect URI registered at the issuer is <site>/oidc/callback/."""

from django.urls import path

from . import views

# mozilla-django-oidc's URL names: its views reverse them.
urlpatterns = [
    path("authenticate/", views.SignInView.as_view(), name="oidc_authentication_init"),
    path("callback/", views.CallbackView.as_view(), name="oidc_authentication_callback"),
]

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.PonderLoginView.as_view(), name="login"),
    path("logout/", views.PonderLogoutView.as_view(), name="logout"),
    path("setup/", views.setup_view, name="setup"),
]

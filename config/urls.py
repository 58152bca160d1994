from django.contrib import admin
from django.urls import include, path

from chat import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("chat.urls")),
]

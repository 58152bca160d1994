from django.contrib import admin
from django.urls import include, path

from chat import health
from chat.spend import views as spend_views
from chat.uploads import views as upload_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("oidc/", include("accounts.oidc.urls")),
    # Before admin.site.urls, whose catch-all would answer these with a 404.
    path("admin/spend/", spend_views.spend_report_view, name="admin-spend"),
    path("admin/spend.csv", spend_views.spend_csv_view, name="admin-spend-csv"),
    path("admin/uploads/<uuid:upload_id>/", upload_views.admin_upload_view, name="admin_upload"),
    path("admin/", admin.site.urls),
    path("", include("chat.urls")),
]

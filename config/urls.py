from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog

from chat.observability import health
from chat.spend import views as spend_views
from chat.uploads import views as upload_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("accounts/", include("accounts.urls")),
    # The ES modules' translations (static/js/i18n.js reads them), per active language.
    path("jsi18n/", cache_page(3600)(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language, for the sign-in page
    path("oidc/", include("accounts.oidc.urls")),
    # Before admin.site.urls, whose catch-all would answer these with a 404.
    path("admin/spend/", spend_views.spend_report_view, name="admin-spend"),
    path("admin/spend.csv", spend_views.spend_csv_view, name="admin-spend-csv"),
    path("admin/uploads/<uuid:upload_id>/", upload_views.admin_upload_view, name="admin_upload"),
    path("admin/", admin.site.urls),
    path("", include("chat.urls")),
]

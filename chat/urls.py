from django.urls import path

from chat import installable
from chat.conversations import api, pages
from chat.sharing import views as sharing
from chat.uploads import views as uploads

urlpatterns = [
    path("", pages.home, name="home"),
    # The service worker controls the whole site only if it is served from its root.
    path("sw.js", installable.service_worker, name="service-worker"),
    path("offline/", installable.offline_page, name="offline"),
    path("c/<uuid:conversation_id>/", pages.conversation_page, name="conversation"),
    path("api/models/", api.models_view),
    path("api/me/", api.me_view),
    path("api/conversations/", api.conversations_view),
    path("api/conversations/<uuid:conversation_id>/", api.conversation_view),
    path("api/conversations/<uuid:conversation_id>/messages/", api.send_message_view),
    path("api/messages/<uuid:message_id>/stop/", api.stop_message_view),
    path("api/messages/<uuid:message_id>/regenerate/", api.regenerate_message_view),
    path("api/messages/<uuid:message_id>/select/", api.select_version_view),
    path("api/messages/<uuid:message_id>/edit/", api.edit_message_view),
    path("api/settings/", api.settings_view),
    path("api/presets/", api.presets_view),
    path("api/presets/<uuid:preset_id>/", api.preset_view),
    path("api/uploads/", uploads.upload_view),
    path("api/uploads/<uuid:upload_id>/file/", uploads.upload_file_view),
    path(
        "api/conversations/<uuid:conversation_id>/shares/",
        sharing.conversation_shares_view,
    ),
    path("api/shares/<str:token>/", sharing.share_view),
    path("api/share-links/<uuid:link_id>/", sharing.share_link_view),
    path("s/<str:token>/", sharing.share_page, name="share_page"),
    path("s/<str:token>/images/<uuid:upload_id>/", sharing.share_image, name="share_image"),
]

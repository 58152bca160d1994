from django.urls import path

from . import api, api_me, share_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<uuid:conversation_id>/", views.conversation_page, name="conversation"),
    path("api/models/", api.models_view),
    path("api/me/", api_me.me_view),
    path("api/conversations/", api.conversations_view),
    path("api/conversations/<uuid:conversation_id>/", api.conversation_view),
    path("api/conversations/<uuid:conversation_id>/messages/", api.send_message_view),
    path("api/messages/<uuid:message_id>/stop/", api.stop_message_view),
    path("api/messages/<uuid:message_id>/regenerate/", api.regenerate_message_view),
    path("api/messages/<uuid:message_id>/select/", api.select_version_view),
    path("api/uploads/", api.upload_view),
    path("api/uploads/<uuid:upload_id>/file/", api.upload_file_view),
    path(
        "api/conversations/<uuid:conversation_id>/shares/",
        share_views.conversation_shares_view,
    ),
    path("api/shares/<str:token>/", share_views.share_view),
    path("api/share-links/<uuid:link_id>/", share_views.share_link_view),
    path("s/<str:token>/", share_views.share_page, name="share_page"),
    path("s/<str:token>/images/<uuid:upload_id>/", share_views.share_image, name="share_image"),
]

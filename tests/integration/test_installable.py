"""The installable app's server side: the manifest and its icons, /sw.js, /offline/."""

from __future__ import annotations

import json
import re

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from PIL import Image

PRECACHE = re.compile(r"^self\.ponderOffline = (\{.*\});\n", re.M)


def test_the_manifest_names_the_app_and_its_icons_exist_at_their_sizes():
    with open(finders.find("manifest.webmanifest"), encoding="utf-8") as file:
        manifest = json.load(file)
    assert manifest["name"] == "Ponder" and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    purposes = set()
    for icon in manifest["icons"]:
        path = finders.find(icon["src"])
        assert path, icon["src"]
        purposes.add(icon["purpose"])
        if icon["type"] == "image/png":
            with Image.open(path) as image:
                assert f"{image.width}x{image.height}" == icon["sizes"], icon
        else:
            assert icon["type"] == "image/svg+xml" and icon["sizes"] == "any"
    assert purposes == {"any", "maskable"}
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}


def test_every_page_links_the_manifest_and_a_touch_icon(client, alice):
    page = client.get("/accounts/login/").content.decode()
    assert f'<link rel="manifest" href="{static("manifest.webmanifest")}">' in page
    assert f'<link rel="apple-touch-icon" href="{static("icons/apple-touch-icon.png")}">' in page
    assert '<meta name="theme-color"' in page


def test_the_service_worker_is_served_from_the_root_and_precaches_only_the_offline_page(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    config = json.loads(PRECACHE.search(response.content.decode()).group(1))
    assert config["page"] == "/offline/"
    assert config["precache"] == ["/offline/", static("css/base.css"), static("css/offline.css")]
    assert re.fullmatch(r"[0-9a-f]{12}", config["version"])


def test_the_offline_page_needs_no_sign_in_and_speaks_the_visitors_language(client, db):
    response = client.get("/offline/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="ja">' in page
    for stylesheet in ("css/base.css", "css/offline.css"):
        assert f'href="{static(stylesheet)}"' in page
    assert "<script" not in page  # it must work from the cache alone

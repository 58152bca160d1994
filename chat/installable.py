"""Ponder as an installable app: the service worker (``/sw.js``) and its offline page.

The worker must be served from the site's root to control every page (a script's scope
is at most its own folder), so it is not a plain static file: this view serves
``static/js/sw.js`` with the URLs it precaches put in front of it. Those are the
offline page's stylesheets under their hashed names, so a new stylesheet changes the
script's bytes, and browsers then install the new worker, which drops the old cache.
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

# What the offline page links to; nothing else is ever cached.
OFFLINE_STYLESHEETS = ["css/base.css", "css/offline.css"]


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    return render(request, "offline.html", {"stylesheets": OFFLINE_STYLESHEETS})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    source = finders.find("js/sw.js")
    assert isinstance(source, str), "static/js/sw.js is missing"
    with open(source, encoding="utf-8") as file:
        code = file.read()
    page = reverse("offline")
    precache = [page, *(static(path) for path in OFFLINE_STYLESHEETS)]
    version = hashlib.sha256(json.dumps([precache, code]).encode()).hexdigest()[:12]
    config = json.dumps({"version": version, "page": page, "precache": precache})
    response = HttpResponse(
        f"self.ponderOffline = {config};\n{code}", content_type="text/javascript; charset=utf-8"
    )
    response["Service-Worker-Allowed"] = "/"
    # Browsers look for a new worker on each visit; a cached copy would hide an update.
    response["Cache-Control"] = "no-cache"
    return response

"""The browser client for offline field use (issue 18): an installable app under /offline/.

The app shell (`/offline/`, its service worker and manifest) holds no personal data and is the
same for everyone, so the service worker may keep it; the beat itself lives in IndexedDB,
encrypted under the checkout's data key (junkai/static/junkai/offline/store.js), and reaches
the device only through the sync API. Taking a beat out starts online, on `take-out/`."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.roles import own_beats
from junkai.devices.access import devices_visible_to
from junkai.devices.actions import open_checkouts
from junkai.households.legend import map_legend

#: The static files of the app shell: the service worker keeps exactly these.
SHELL_STATIC = (
    "junkai/junkai.css",
    # The beat map: the online map's own script and the Leaflet it vendors.
    "vendor/leaflet-1.9.4/leaflet.css",
    "vendor/leaflet-1.9.4/leaflet.js",
    "vendor/leaflet.markercluster-1.5.3/MarkerCluster.css",
    "vendor/leaflet.markercluster-1.5.3/MarkerCluster.Default.css",
    "vendor/leaflet.markercluster-1.5.3/leaflet.markercluster.js",
    "junkai/beat_map.css",
    "junkai/beat_map.js",
    "junkai/offline/offline.css",
    "junkai/offline/app.js",
    "junkai/offline/store.js",
    "junkai/offline/views.js",
    "junkai/offline/rules.js",
    "junkai/offline/icon.svg",
)
#: The take-out page's script (online only, not kept by the worker).
TAKE_OUT_SCRIPT = "junkai/offline/takeout.js"


@cache
def _shell_version() -> str:
    """Changes whenever a shell file changes, so the service worker takes the new shell."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        found = finders.find(name)
        if isinstance(found, str):
            with open(found, "rb") as handle:
                digest.update(handle.read())
        digest.update(static(name).encode())
    digest.update(json.dumps(map_legend(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _shell_urls() -> list[str]:
    """The app page and each static file by its served name and by its plain one (modules
    import each other by the plain name: `./store.js`)."""
    plain = "/" + settings.STATIC_URL.strip("/") + "/"
    urls = [reverse("offline_app")]
    for name in SHELL_STATIC:
        for url in (static(name), plain + name):
            if url not in urls:
                urls.append(url)
    return urls


@declare_access("public")
@require_GET
def offline_app(request: HttpRequest) -> HttpResponse:
    """The app shell: the same page for everyone (no personal data, no officer's name)."""
    return render(
        request,
        "devices/offline/app.html",
        {"version": _shell_version(), "legend": map_legend()},
    )


@declare_access("public")
@require_GET
def offline_service_worker(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "devices/offline/sw.js",
        {
            "version": _shell_version(),
            "shell": json.dumps(_shell_urls()),
        },
        content_type="text/javascript; charset=utf-8",
    )
    # The worker is looked for again at each visit; the shell files it lists are immutable.
    response["Cache-Control"] = "no-cache"
    return response


@declare_access("public")
@require_GET
def offline_manifest(request: HttpRequest) -> HttpResponse:
    app = reverse("offline_app")
    return JsonResponse(
        {
            "name": "Junkai 巡回連絡（端末）",
            "short_name": "Junkai端末",
            "lang": "ja",
            "start_url": app,
            "scope": app,
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#1d3a5f",
            "icons": [
                {
                    "src": static("junkai/offline/icon.svg"),
                    "sizes": "any",
                    "type": "image/svg+xml",
                    "purpose": "any",
                }
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@declare_access("signed_in")
@signed_in_view
@require_GET
def offline_session(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What the app asks before it syncs: is the officer signed in here (signed out: the
    redirect to the sign-in page), and the CSRF token its API calls carry (the cached shell
    cannot hold a current one)."""
    return JsonResponse({"csrf": get_token(request), "officer_id": request.user.pk})


@declare_access("scoped")
@signed_in_view
@require_GET
def offline_take_out(request: AuthenticatedHttpRequest) -> HttpResponse:
    """受持区を端末に持ち出す: the post's devices free to take out and the officer's own beats
    (no personal data); the page's script asks the browser for persistent storage first and
    declares the checkout through the API (an entry of the 持出確認簿)."""
    officer = request.user
    beats = list(own_beats(officer).select_related("post").order_by("code"))
    post_ids = {b.post_id for b in beats}
    devices = [
        d
        for d in devices_visible_to(officer)
        .filter(post_id__in=post_ids, revoked_at__isnull=True)
        .order_by("label")
        if not open_checkouts(d)
    ]
    return render(
        request,
        "devices/offline/take_out.html",
        {
            "beats": beats,
            "devices": devices,
            "options": {
                "devices": [{"id": d.id, "label": d.label, "post_id": d.post_id} for d in devices],
                "beats": [
                    {"id": b.id, "name": b.name, "code": b.code, "post_id": b.post_id}
                    for b in beats
                ],
                "register_urls": {
                    str(pid): reverse("checkout_register", args=[pid]) for pid in post_ids
                },
            },
        },
    )

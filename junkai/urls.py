from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from junkai.accounts import views as accounts
from junkai.api.api import api
from junkai.api.errors import unavailable_body
from junkai.households import views as households
from junkai.org import views as org
from junkai.serving import health, unavailable
from junkai.web import views as web

# The Django admin is for superusers only (is_staff is given to no one else).
admin.site.site_header = "Junkai システム管理"

urlpatterns = [
    path("", web.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", accounts.sign_in, name="login"),
    path("logout/", accounts.sign_out, name="logout"),
    path("mfa/", accounts.mfa, name="mfa"),
    path("mfa/enroll/", accounts.mfa_enroll, name="mfa_enroll"),
    path("account/", web.account, name="account"),
    path("account/password/", accounts.password_change, name="password_change"),
    path("account/tokens/<int:token_id>/revoke/", web.account_revoke_token, name="revoke_token"),
    path("org/", org.org_index, name="org_index"),
    path("org/stations/<int:station_id>/", org.org_station, name="org_station"),
    path(
        "org/stations/<int:station_id>/assignments/new/",
        org.assignment_new,
        name="assignment_new",
    ),
    path("org/assignments/<int:assignment_id>/end/", org.assignment_end, name="assignment_end"),
    path("org/posts/<int:post_id>/custodian/", org.custodian_designate, name="custodian"),
    path("org/posts/<int:post_id>/key-deputy/", org.key_deputy_designate, name="key_deputy"),
    path("org/officers/<int:officer_id>/", org.officer_detail, name="org_officer"),
    path(
        "org/officers/<int:officer_id>/password/",
        accounts.officer_password_reissue,
        name="org_officer_password",
    ),
    path(
        "org/officers/<int:officer_id>/totp/", accounts.officer_totp_reset, name="org_officer_totp"
    ),
    path(
        "org/officers/<int:officer_id>/end-sessions/",
        org.officer_end_sessions,
        name="org_officer_end_sessions",
    ),
    path("beats/", households.beat_index, name="beats"),
    path("beats/<int:beat_id>/households/", households.beat_households, name="beat_households"),
    path("beats/<int:beat_id>/households/new/", households.household_new, name="household_new"),
    path("beats/<int:beat_id>/export/", households.beat_export, name="beat_export"),
    path("households/<int:household_id>/", households.household_detail, name="household"),
    path("households/<int:household_id>/edit/", households.household_edit, name="household_edit"),
    path(
        "households/<int:household_id>/move-out/",
        households.household_move_out,
        name="household_move_out",
    ),
    path("households/<int:household_id>/card/", households.card_edit, name="card_edit"),
    path(
        "households/<int:household_id>/card/overwrite/",
        households.card_overwrite,
        name="card_overwrite",
    ),
    path(
        "households/<int:household_id>/card/dispose/", households.card_dispose, name="card_dispose"
    ),
    path("search/", households.search, name="search"),
    path("", include("junkai.visits.urls")),
    path("", include("junkai.visits.planning_urls")),
    path("", include("junkai.registers.urls")),
    path("", include("junkai.devices.urls")),
    path("", include("junkai.disclosures.urls")),
    path("", include("junkai.documents.urls")),
    path("", include("junkai.planning.urls")),
    path("", include("junkai.planning.route_urls")),
    path("", include("junkai.dashboards.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

# A database out of reach answers 503 with Retry-After (the API in its one error shape);
# any other error the 500 page (junkai/serving/unavailable.py).
handler500 = unavailable.server_error_view(api_body=unavailable_body)

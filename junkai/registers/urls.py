from __future__ import annotations

from django.urls import path

from junkai.registers import views, views_losses

urlpatterns = [
    path("registers/", views.registers_index, name="registers_index"),
    path("registers/alerts/", views.register_alerts, name="register_alerts"),
    path("registers/reviews/", views.checkout_reviews, name="checkout_reviews"),
    path(
        "registers/reviews/<int:post_id>/<int:year>/<int:month>/",
        views.checkout_review_month,
        name="checkout_review_month",
    ),
    path("registers/inspections/", views.inspections, name="inspections"),
    path("registers/posts/<int:post_id>/", views.register_post, name="register_post"),
    path("registers/posts/<int:post_id>/binders/new/", views.binder_new, name="binder_new"),
    path("registers/posts/<int:post_id>/cabinets/new/", views.cabinet_new, name="cabinet_new"),
    path(
        "registers/posts/<int:post_id>/checkouts/",
        views.checkout_register,
        name="checkout_register",
    ),
    path(
        "registers/posts/<int:post_id>/checkouts/<int:year>/<int:month>/",
        views.checkout_register,
        name="checkout_register_month",
    ),
    path("registers/posts/<int:post_id>/checkouts/new/", views.checkout_new, name="checkout_new"),
    path("registers/posts/<int:post_id>/key/", views.key_custody, name="key_custody"),
    path(
        "registers/posts/<int:post_id>/inspections/new/",
        views.inspection_new,
        name="inspection_new",
    ),
    path(
        "registers/checkouts/<int:checkout_id>/confirm-out/",
        views.checkout_confirm_out,
        name="checkout_confirm_out",
    ),
    path(
        "registers/checkouts/<int:checkout_id>/return/",
        views.checkout_return,
        name="checkout_return",
    ),
    path(
        "registers/checkouts/<int:checkout_id>/confirm-return/",
        views.checkout_confirm_return,
        name="checkout_confirm_return",
    ),
    path(
        "registers/inspections/<int:inspection_id>/",
        views.inspection_detail,
        name="inspection_detail",
    ),
    path(
        "registers/inspections/<int:inspection_id>/follow-up/",
        views.inspection_follow_up,
        name="inspection_follow_up",
    ),
    path(
        "registers/inspections/<int:inspection_id>/close/",
        views.inspection_close,
        name="inspection_close",
    ),
]

urlpatterns += [
    path("registers/binders/<int:binder_id>/loss/", views_losses.loss_new, name="loss_new"),
    path("registers/losses/", views_losses.loss_reports, name="loss_reports"),
    path("registers/losses/<int:loss_report_id>/", views_losses.loss_report, name="loss_report"),
    path(
        "registers/losses/<int:loss_report_id>/households/<int:household_id>/informed/",
        views_losses.loss_household_informed,
        name="loss_household_informed",
    ),
    path(
        "registers/losses/<int:loss_report_id>/households/<int:household_id>/card-recreated/",
        views_losses.loss_card_recreated,
        name="loss_card_recreated",
    ),
    path(
        "registers/losses/<int:loss_report_id>/found/", views_losses.loss_found, name="loss_found"
    ),
    path(
        "registers/losses/<int:loss_report_id>/close/", views_losses.loss_close, name="loss_close"
    ),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from leadbaton.api import api
from leadbaton.api.errors import api_urls
from leadbaton.web import board, configure, marketing, views, webhooks
from leadbaton.web.signin import PasswordChange, PasswordReset, PasswordResetConfirm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", PasswordChange.as_view(), name="password_change"),
    path("account/password/changed/", auth_views.PasswordChangeDoneView.as_view(template_name="web/password_change_done.html"),
         name="password_change_done"),
    path("account/password/reset/", PasswordReset.as_view(), name="password_reset"),
    path("account/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(template_name="web/password_reset_sent.html"),
         name="password_reset_sent"),
    path("account/password/reset/<uidb64>/<token>/", PasswordResetConfirm.as_view(), name="password_reset_confirm"),
    path("account/password/reset/done/", auth_views.PasswordResetCompleteView.as_view(template_name="web/password_reset_complete.html"),
         name="password_reset_complete"),
    path("leads/new/", views.LeadEntry.as_view(), name="lead_new"),
    path("leads/<int:lead_id>/", views.lead_page, name="lead"),
    path("leads/<int:lead_id>/touch/", views.LeadTouch.as_view(), name="lead_touch"),
    path("leads/<int:lead_id>/outcome/", views.LeadOutcome.as_view(), name="lead_outcome"),
    path("leads/<int:lead_id>/reject/", views.LeadReject.as_view(), name="lead_reject"),
    path("leads/<int:lead_id>/take/", board.LeadTake.as_view(), name="lead_take"),
    path("teams/", board.teams, name="teams"),
    path("teams/<slug:slug>/", board.board, name="board"),
    path("teams/<slug:slug>/move/", board.BoardMove.as_view(), name="board_move"),
    path("reps/<int:rep_id>/pause/", board.RepPause.as_view(), name="rep_pause"),
    path("reps/<int:rep_id>/resume/", board.RepResume.as_view(), name="rep_resume"),
    path("settings/", configure.settings_home, name="settings"),
    path("settings/routing/", configure.RoutingSettings.as_view(), name="routing_settings"),
    path("settings/sources/", configure.Sources.as_view(), name="sources"),
    path("settings/sources/<slug:slug>/keys/", configure.SourceKeyNew.as_view(), name="source_key_new"),
    path("settings/sources/<slug:slug>/keys/<int:key_id>/revoke/", configure.SourceKeyRevoke.as_view(), name="source_key_revoke"),
    path("settings/webhooks/", webhooks.Webhooks.as_view(), name="webhooks"),
    path("settings/webhooks/<int:subscription_id>/", webhooks.WebhookPage.as_view(), name="webhook"),
    path("settings/webhooks/<int:subscription_id>/rotate/", webhooks.WebhookRotate.as_view(), name="webhook_rotate"),
    path("settings/webhooks/<int:subscription_id>/deliveries/<str:message_id>/redeliver/", webhooks.WebhookRedeliver.as_view(),
         name="webhook_redeliver"),
    path("settings/teams/<slug:slug>/", configure.TeamSettings.as_view(), name="team_settings"),
    path("settings/service-levels/<slug:scope>/", configure.PolicySettings.as_view(), name="policy_settings"),
    path("settings/reps/<int:rep_id>/", configure.RepSettings.as_view(), name="rep_settings"),
    path("settings/reps/<int:rep_id>/time-off/", configure.RepTimeOffAdd.as_view(), name="rep_time_off_add"),
    path("settings/reps/<int:rep_id>/time-off/<int:period_id>/remove/", configure.RepTimeOffRemove.as_view(), name="rep_time_off_remove"),
    path("settings/reps/<int:rep_id>/deactivate/", configure.RepDeactivate.as_view(), name="rep_deactivate"),
    path("settings/reps/<int:rep_id>/activate/", configure.RepActivate.as_view(), name="rep_activate"),
    path("submissions/", marketing.submissions, name="submissions"),
    path("submissions/<int:submission_id>/", marketing.submission_page, name="submission"),
    path("submissions/<int:submission_id>/replay/", marketing.SubmissionReplay.as_view(), name="submission_replay"),
    path("marketing/rejected/", marketing.rejected, name="rejected"),
    path("marketing/nurture/", marketing.nurture, name="nurture"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls(api)),
]

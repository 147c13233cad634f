from django.urls import path

from accounts import security_views, views, webhook_views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Account security: the second login step, the Security page, passwords.
    path("login/verify/", security_views.login_verify, name="login_verify"),
    path("security/", security_views.security, name="security"),
    path("security/totp/", security_views.totp_setup, name="totp_setup"),
    path(
        "security/backup-codes/",
        security_views.backup_codes_regenerate,
        name="backup_codes_regenerate",
    ),
    path("security/disable/", security_views.two_factor_disable, name="two_factor_disable"),
    path(
        "security/logout-everywhere/",
        security_views.logout_everywhere,
        name="logout_everywhere",
    ),
    path(
        "security/organization/",
        security_views.organization_two_factor,
        name="organization_two_factor",
    ),
    path(
        "security/password/",
        security_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/reset/",
        security_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password/reset/done/",
        security_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/complete/",
        security_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        security_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("organization/switch/", views.switch_organization, name="switch_organization"),
    path("audit/", views.audit_log, name="audit_log"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path(
        "members/invitations/<int:pk>/revoke/",
        views.member_invitation_revoke,
        name="invitation_revoke",
    ),
    # Public (no login): the e-mailed invitation link; the token is the credential.
    path("invitations/<str:token>/", views.invitation_accept_page, name="invitation_accept"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/new/", views.api_key_new, name="api_key_new"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke_page, name="api_key_revoke"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/new/", webhook_views.webhook_new, name="webhook_new"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test_send, name="webhook_test"),
    path("webhooks/<int:pk>/enable/", webhook_views.webhook_enable_page, name="webhook_enable"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete_page, name="webhook_delete"),
]

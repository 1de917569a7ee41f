"""URL routes of the account pages."""

from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("tokens/", views.tokens_page, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke_token_page, name="revoke-token"),
]

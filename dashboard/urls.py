"""URL routes of the dashboard pages."""

from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview_page, name="overview"),
]

"""URL routes of the inventory pages."""

from django.urls import path

from inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.inventory_page, name="inventory"),
]

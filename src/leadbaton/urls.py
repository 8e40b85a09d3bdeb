from django.contrib import admin
from django.urls import path

from leadbaton.api import api
from leadbaton.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

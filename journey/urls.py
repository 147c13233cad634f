from django.urls import path

from journey import views

urlpatterns = [
    path("", views.home, name="home"),
]

from django.urls import path

from . import views

app_name = "studies"
urlpatterns = [
    path("", views.study_list, name="list"),
    path("<slug:slug>/", views.study_detail, name="detail"),
    path("<slug:slug>/cite.<str:extension>", views.study_cite, name="cite"),
    path("<slug:slug>/pdf/", views.study_pdf, name="pdf"),
]

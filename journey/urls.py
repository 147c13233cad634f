from django.urls import path

from journey import import_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.clients, name="clients"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:client_id>/", views.client_detail, name="client_detail"),
    path("clients/<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("clients/<int:client_id>/history/", views.client_history, name="client_history"),
    path("clients/<int:client_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("clients/<int:client_id>/touchpoints/", views.touchpoint_log, name="touchpoint_log"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("projects/", views.projects, name="projects"),
    path("projects/mine/", views.my_projects, name="my_projects"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:project_id>/", views.project_detail, name="project_detail"),
    path("projects/<int:project_id>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:project_id>/history/", views.project_history, name="project_history"),
    path(
        "projects/<int:project_id>/transition/",
        views.project_transition,
        name="project_transition",
    ),
    path("projects/<int:project_id>/milestones/", views.milestone_add, name="milestone_add"),
    path(
        "milestones/<int:milestone_id>/complete/",
        views.milestone_complete,
        name="milestone_complete",
    ),
    path("board/", views.board, name="board"),
    path("import/", import_views.import_start, name="import_start"),
    path("import/templates/<str:kind>.csv", import_views.import_template, name="import_template"),
    path("import/<int:job_id>/", import_views.import_job, name="import_job"),
    path("import/<int:job_id>/write/", import_views.import_job_write, name="import_job_write"),
]

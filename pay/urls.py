from django.urls import path

from pay import views

app_name = "pay"
urlpatterns = [
    path("projects/<int:project_id>/pay/", views.project_pay, name="project"),
    path("projects/<int:project_id>/pay/backpay/", views.project_pay_backpay, name="backpay"),
    path("organizations/<slug:slug>/pay/", views.organization_pay, name="organization"),
    path("organizations/<slug:slug>/statements/", views.statements, name="statements"),
    path("statements/", views.my_statements, name="mine"),
]

from django.apps import AppConfig


class BalieConfig(AppConfig):
    name = "desk.balie"
    label = "balie"
    verbose_name = "Desk"
    default_auto_field = "django.db.models.BigAutoField"

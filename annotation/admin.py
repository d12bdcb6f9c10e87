from django.contrib import admin

from annotation.models import ImportJob, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "status", "external_id", "is_gold", "priority", "answer_count"]
    list_filter = ["status", "is_gold", "project"]
    search_fields = ["external_id"]
    raw_id_fields = ["project"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "original_name", "status", "processed", "total", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["project", "created_by"]

from __future__ import annotations

from django.contrib import admin

from .models import CaseMinimum, Encounter, EncounterLine, Favourite, ImportBatch


@admin.register(CaseMinimum)
class CaseMinimumAdmin(admin.ModelAdmin):
    list_display = ("specialty", "category", "minimum", "roles", "is_example", "source")
    list_filter = ("specialty", "is_example")
    search_fields = ("specialty", "category")
    list_editable = ("minimum",)


class LineInline(admin.TabularInline):
    model = EncounterLine
    extra = 0
    fields = ("position", "code", "modifiers", "units", "wrvu", "payment")
    readonly_fields = fields
    can_delete = False


@admin.register(Encounter)
class EncounterAdmin(admin.ModelAdmin):
    # Encounters are the users' private logs: the admin can see that they exist, not edit them.
    list_display = ("user", "date", "entry", "total_wrvu", "release", "policy_name", "deleted_at")
    list_filter = ("release", "policy_name")
    search_fields = ("user__username",)
    date_hierarchy = "date"
    inlines = [LineInline]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Favourite)
class FavouriteAdmin(admin.ModelAdmin):
    list_display = ("user", "code", "created_at")


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("user", "filename", "kind", "status", "created_at")
    exclude = ("data",)
    readonly_fields = ("user", "filename", "kind", "headers", "mapping", "report", "status", "created_at")

    def get_queryset(self, request):
        # The uploaded file (up to 50 MB a batch) is never shown: never read either.
        return super().get_queryset(request).defer("data")

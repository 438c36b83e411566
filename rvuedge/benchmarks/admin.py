from __future__ import annotations

from django.contrib import admin

from .models import BenchmarkSource, BenchmarkStat, CodeVolume, Contract


class StatInline(admin.TabularInline):
    model = BenchmarkStat
    extra = 0
    fields = ("specialty", "metric", "p25", "p50", "p75", "p90", "n")


@admin.register(BenchmarkSource)
class BenchmarkSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "year", "kind", "setting", "medicare_only", "clinicians", "updated_at")
    list_filter = ("kind", "setting", "medicare_only")
    search_fields = ("name", "citation")
    inlines = [StatInline]


@admin.register(CodeVolume)
class CodeVolumeAdmin(admin.ModelAdmin):
    list_display = ("hcpcs", "source", "total_services", "clinicians", "work_rvu")
    list_filter = ("source",)
    search_fields = ("hcpcs",)


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    # Contracts are private: the admin shows who has one, not the terms' figures in the list.
    list_display = ("name", "user", "start", "end", "is_offer", "updated_at")
    list_filter = ("is_offer",)
    search_fields = ("name", "user__username")
    raw_id_fields = ("user",)

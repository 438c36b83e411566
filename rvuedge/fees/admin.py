from __future__ import annotations

from django.contrib import admin

from . import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """CMS data is written only by the importer; the admin browses it."""

    def has_add_permission(self, request, obj=None):  # noqa: ARG002
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ARG002
        return False


@admin.register(models.Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ["name", "year", "released", "conv_factor", "conv_factor_qp", "layout", "loaded_at"]
    search_fields = ["name", "title"]


@admin.register(models.FeeRow)
class FeeRowAdmin(ReadOnlyAdmin):
    list_display = ["hcpcs", "modifier", "description", "status", "work_rvu", "nonfac_total", "fac_total",
                    "glob_days", "release"]
    list_filter = ["release", "status", "glob_days", "pctc", "mult_proc"]
    search_fields = ["hcpcs", "description"]
    list_select_related = ["release"]
    show_full_result_count = False


@admin.register(models.Locality)
class LocalityAdmin(ReadOnlyAdmin):
    list_display = ["mac", "locality", "state", "area", "release"]
    list_filter = ["release"]
    search_fields = ["area", "state", "counties", "mac"]


@admin.register(models.Gpci)
class GpciAdmin(ReadOnlyAdmin):
    list_display = ["mac", "locality", "state", "name", "work_gpci", "work_gpci_no_floor", "pe_gpci",
                    "mp_gpci", "release"]
    list_filter = ["release", "state"]
    search_fields = ["name", "mac"]


@admin.register(models.AnesthesiaCF)
class AnesthesiaCFAdmin(ReadOnlyAdmin):
    list_display = ["mac", "locality", "name", "conv_factor", "release"]
    list_filter = ["release"]


@admin.register(models.OppsCap)
class OppsCapAdmin(ReadOnlyAdmin):
    list_display = ["hcpcs", "modifier", "mac", "locality", "fac_price", "nonfac_price", "release"]
    list_filter = ["release"]
    search_fields = ["hcpcs"]
    show_full_result_count = False


@admin.register(models.HcpcsRelease)
class HcpcsReleaseAdmin(ReadOnlyAdmin):
    list_display = ["name", "file_name", "loaded_at"]


@admin.register(models.HcpcsCode)
class HcpcsCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "short_description", "betos", "added", "terminated", "release"]
    list_filter = ["release", "betos", "action_code"]
    search_fields = ["code", "long_description", "short_description"]


@admin.register(models.HcpcsModifier)
class HcpcsModifierAdmin(ReadOnlyAdmin):
    list_display = ["modifier", "short_description", "release"]
    search_fields = ["modifier", "long_description"]

"""The CRM's clients list (staff and moderators; money for staff only) and its Excel
export (staff). Views parse the filters with ``ClientFilterForm`` and call the
selectors in ``parta.crm.clients``; a bad filter value gets the form's message and a
400, never a 500."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from parta.accounts.views import XLSX_CONTENT_TYPE
from parta.crm import clients
from parta.crm.client_forms import ClientFilterForm
from parta.crm.clients import ClientFilters
from parta.crm.export import clients_workbook_file, export_filename
from parta.crm.permissions import can_see_money, crm_required, staff_required


@crm_required
@require_GET
def client_list(request):
    form = ClientFilterForm(request.GET or None)
    error = ""
    if form.is_bound and not form.is_valid():
        error = form.error_text()
        filters = ClientFilters()
    else:
        filters = form.filters() if form.is_bound else ClientFilters()
    money = can_see_money(request.user)
    page = clients.clients_page(filters=filters, page=request.GET.get("page"), money=money)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "money": money,
        "filter_error": error,
        "export_query": filters.query(),
        "previous_query": filters.query(page=page.previous_page_number())
        if page.has_previous()
        else None,
        "next_query": filters.query(page=page.next_page_number()) if page.has_next() else None,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "crm/_clients_results.html" if partial else "crm/clients.html"
    response = render(request, template, context, status=400 if error else 200)
    if partial and not error:
        # The address bar gets the filters as set, without the form's empty fields.
        query = filters.query(page=page.number)
        response["HX-Push-Url"] = reverse("crm:clients") + (f"?{query}" if query else "")
    return response


@staff_required
@require_GET
def client_export(request):
    form = ClientFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "error.html", {"message": form.error_text()}, status=400)
    filters = form.filters() if form.is_bound else ClientFilters()
    spool, _count = clients_workbook_file(
        clients.clients_for_export(filters=filters), clients.currencies_in_use()
    )
    response = FileResponse(
        spool, as_attachment=True, filename=export_filename(), content_type=XLSX_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response

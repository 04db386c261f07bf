from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from parta.accounts.exports import registrations_workbook_file
from parta.accounts.forms import ProfileForm
from parta.accounts.selectors import registration_rows
from parta.accounts.services import user_update_profile
from parta.common.errors import ValidationFailed

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                user_update_profile(
                    user=user,
                    full_name=form.cleaned_data["full_name"],
                    phone=form.cleaned_data["phone"],
                )
            except ValidationFailed as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Profile saved."))
                return redirect("accounts:profile")
    else:
        form = ProfileForm(initial={"full_name": user.full_name, "phone": user.phone})
    return render(request, "accounts/profile.html", {"form": form, "profile_user": user})


def registrations_xlsx_response(queryset=None) -> FileResponse:
    """The registrations workbook as a download, built from the data as it is now."""
    spool, _count = registrations_workbook_file(registration_rows(queryset))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        spool,
        as_attachment=True,
        filename=f"parta-registrations-{stamp}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_member_required
@require_GET
def registrations_export(request):
    return registrations_xlsx_response()

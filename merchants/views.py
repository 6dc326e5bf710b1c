"""Pages of the merchants app that are not the admin's own: the old admin addresses of the moved models."""

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import reverse


def moved_admin_page(request: HttpRequest, model: str, rest: str) -> HttpResponsePermanentRedirect:
    """Merchants, locations and staff were administered under /admin/shop/ before they had their own app:
    bookmarks and links to those pages land on the same page under /admin/merchants/."""
    query = request.META.get("QUERY_STRING", "")
    url = f"{reverse('admin:app_list', args=['merchants'])}{model}/{rest}"
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)

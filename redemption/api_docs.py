"""The API's docs page, rendered on the server from the OpenAPI schema, so it works without any CDN."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
    return str(ref).rsplit("/", 1)[-1]


class ApiDocsView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        schema = SchemaGenerator().get_schema(request=None, public=True)
        operations = []
        for url, item in schema.get("paths", {}).items():
            for method in METHODS:
                operation = item.get(method)
                if not operation:
                    continue
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                operations.append(
                    {
                        "method": method.upper(),
                        "path": url,
                        "summary": operation.get("summary", ""),
                        "description": operation.get("description", ""),
                        "parameters": operation.get("parameters", []),
                        "request": _ref_name(body.get("schema")),
                        "responses": [
                            (code, _ref_name(answer.get("content", {}).get("application/json", {}).get("schema")))
                            for code, answer in operation.get("responses", {}).items()
                        ],
                    }
                )
        components = schema.get("components", {}).get("schemas", {})
        return render(
            request,
            "redemption/api_docs.html",
            {"info": schema.get("info", {}), "operations": operations, "components": sorted(components.items())},
        )


@csrf_exempt  # a till's POST to a wrong path is told so, not refused as a form without a CSRF token
def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"code": "not_found", "message": "No such API endpoint."}, status=404)

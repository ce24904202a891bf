"""Content-Security-Policy on every HTML page (Django 5.2 has no CSP of its own)."""

from __future__ import annotations

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Sets ``settings.HOCBA_CONTENT_SECURITY_POLICY`` on HTML responses that do not carry a policy yet.

    Files (PDF, XML, ZIP, Excel) and JSON get no policy: it would not protect them, and a PDF opened in the
    browser's viewer must not be restricted by a page policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "HOCBA_CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response and \
                response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = policy
        return response

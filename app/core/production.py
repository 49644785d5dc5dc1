"""What a busy installation needs from the app itself: compressed pages, scripts and JSON, and static files the
browser keeps for half a day (revalidated by ETag after that). Exports and imports are not touched."""

from flask_compress import Compress

compress = Compress()
STATIC_PREFIXES = ("/static/", "/appbuilder/static/", "/vendor/")


def install(app) -> None:
    # Behind nginx the client's address arrives in X-Forwarded-For: trust exactly the configured number of proxies
    # (the audit log's IP and the per-IP login limit would otherwise all be nginx's address); 0 trusts none, since a
    # client can send the header itself
    proxies = int(app.config.get("PROXY_FIX_X_FOR", 0) or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        ["text/html", "text/css", "application/javascript", "text/javascript", "application/json", "image/svg+xml"],
    )
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    compress.init_app(app)
    max_age = int(app.config.get("STATIC_MAX_AGE", 43200))

    @app.after_request
    def cache_static(response):
        from flask import request

        if response.status_code == 200 and request.path.startswith(STATIC_PREFIXES):
            response.cache_control.public = True
            response.cache_control.max_age = max_age
        return response

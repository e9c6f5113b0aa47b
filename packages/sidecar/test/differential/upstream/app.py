"""
A recording stand-in for dify-api, for the differential gate tests only.

Real werkzeug routing (through Flask, as dify-api routes), served by gunicorn with the gevent
worker, with python-socketio / python-engineio mounted in front of the Flask app the way
dify-api mounts them (`socketio.WSGIApp(sio, app)` with `socketio.Server(async_mode="gevent")`;
dify `api/app_factory.py`, dify `api/extensions/ext_socketio.py`). The URL map is our own and
only mirrors the *shape* of dify-api's map as far as the gate cares: which prefixes exist and
which handlers are local-login, public, refresh, console, web-app, service API, files, MCP,
triggers.

For every request it receives it appends one JSON line to $DIFF_RECORD_FILE, before answering:
the route werkzeug matched (endpoint `<class>.<name>`, or `engineio`, or null), the path werkzeug
saw, the Dify cookies as werkzeug parsed them (fingerprints, never values; the account id of
the access cookie), the names of all request headers, and the harness's request marker. No
route does anything else: this app never authenticates anyone.
"""
import base64
import hashlib
import json
import os

from flask import Flask, request
import socketio

RECORD_FILE = os.environ["DIFF_RECORD_FILE"]
COOKIE_NAMES = ("access_token", "refresh_token", "csrf_token")

app = Flask(__name__)
sio = socketio.Server(async_mode="gevent", cors_allowed_origins=[])


def _fingerprint(value):
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _account_of(token):
    """user_id of a Dify access-token JWT, without verifying it (the gate decides, not us)."""
    if not token:
        return None
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload)).get("user_id")
    except Exception:  # noqa: BLE001 - a malformed token names no account
        return "<malformed>"


def _cookies(cookies):
    out = {}
    for prefix in ("", "__Host-"):
        for name in COOKIE_NAMES:
            value = cookies.get(prefix + name)
            if value is None:
                continue
            out[prefix + name] = {"fp": _fingerprint(value)}
            if name == "access_token":
                out[prefix + name]["account"] = _account_of(value)
    return out


def _header_names(environ):
    names = []
    for key in environ:
        if key.startswith("HTTP_"):
            names.append(key[5:].lower().replace("_", "-"))
    if "CONTENT_TYPE" in environ:
        names.append("content-type")
    if "CONTENT_LENGTH" in environ:
        names.append("content-length")
    return sorted(names)


def _write(record):
    line = json.dumps(record, separators=(",", ":")) + "\n"
    with open(RECORD_FILE, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()


def _record(kind, endpoint, environ, cookies, args):
    _write(
        {
            "kind": kind,
            "endpoint": endpoint,
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "rawUri": environ.get("RAW_URI") or environ.get("REQUEST_URI"),
            "marker": environ.get("HTTP_X_DIFF_REQ"),
            "cookies": _cookies(cookies),
            "headers": _header_names(environ),
            "signedFile": all(args.get(k) for k in ("timestamp", "nonce", "sign")),
            "upgrade": environ.get("HTTP_UPGRADE"),
            # Flask answers OPTIONS itself for every rule without running the view (CORS preflight).
            "preflight": kind == "flask" and endpoint is not None and environ.get("REQUEST_METHOD") == "OPTIONS",
        }
    )


@app.before_request
def record_flask():
    rule = request.url_rule
    _record("flask", rule.endpoint if rule is not None else None, request.environ, request.cookies, request.args)


def route(rule, endpoint, methods=("GET",)):
    app.add_url_rule(rule, endpoint, lambda **_: ({"endpoint": endpoint}, 200), methods=list(methods))


ANY = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Local sign-in, registration and password reset (dify `api/controllers/console/auth/*.py`).
route("/console/api/login", "locked.login", ("POST",))
route("/console/api/email-code-login", "locked.email_code_login", ("POST",))
route("/console/api/email-code-login/validity", "locked.email_code_login_validity", ("POST",))
route("/console/api/email-register/send-email", "locked.email_register_send", ("POST",))
route("/console/api/email-register/validity", "locked.email_register_validity", ("POST",))
route("/console/api/email-register", "locked.email_register", ("POST",))
route("/console/api/forgot-password", "locked.forgot_password", ("POST",))
route("/console/api/forgot-password/validity", "locked.forgot_password_validity", ("POST",))
route("/console/api/forgot-password/resets", "locked.forgot_password_resets", ("POST",))
route("/console/api/reset-password", "locked.reset_password", ("POST",))
route("/console/api/oauth/login/<provider>", "locked.oauth_login", ("GET",))
route("/console/api/oauth/authorize/<provider>", "locked.oauth_authorize", ("GET",))
route("/console/api/account/password", "locked.account_password", ("POST",))
route("/console/api/setup", "locked.setup_write", ("POST",))
route("/api/login", "locked.webapp_login", ("POST",))

# Public console routes.
route("/console/api/ping", "public.ping", ("GET",))
route("/console/api/system-features", "public.system_features", ("GET",))
route("/console/api/setup", "public.setup_status", ("GET",))
route("/console/api/init", "public.init_status", ("GET",))
route("/console/api/activate/check", "public.activate_check", ("GET",))

# Refresh: Dify reads the refresh cookie.
route("/console/api/refresh-token", "refresh.refresh_token", ("POST",))

# Console routes that act as the account of the access cookie.
route("/console/api/account/profile", "console.account_profile", ("GET", "POST"))
route("/console/api/apps", "console.apps", ("GET", "POST"))
route("/console/api/apps/<uuid:app_id>", "console.app", ANY)
route("/console/api/apps/<uuid:app_id>/chat-messages", "console.app_chat", ("POST",))
route("/console/api/workspaces/current/members", "console.members", ("GET",))
route("/console/api/workspaces/current/members/invite-email", "console.members_invite", ("POST",))
route("/console/api/workspaces/current/model-providers/<path:provider>/credentials", "console.model_provider_credentials", ANY)
route("/console/api/files/upload", "console.files_upload", ("POST",))
route("/console/api/logout", "console.logout", ("GET", "POST"))

# Published web-app API (dify `api/controllers/web/*.py`).
route("/api/passport", "webapp.passport", ("GET",))
route("/api/parameters", "webapp.parameters", ("GET",))
route("/api/chat-messages", "webapp.chat_messages", ("POST",))
route("/api/system-features", "webapp.system_features", ("GET",))

# Service API (Dify app keys).
route("/v1/info", "service.info", ("GET",))
route("/v1/chat-messages", "service.chat_messages", ("POST",))

# Files (signed URLs).
route("/files/<uuid:file_id>/file-preview", "files.file_preview", ("GET",))
route("/files/upload/for-plugin", "files.upload_for_plugin", ("POST",))

# MCP server and triggers (authenticated by Dify itself).
route("/mcp/server/<server_code>/mcp", "mcp.server", ("GET", "POST"))
route("/triggers/webhook/<webhook_id>", "triggers.webhook", ANY)

# dify-api answers websocket traffic through python-engineio only under /socket.io/.
_engineio_handle = sio.eio.handle_request


def _recording_handle(environ, start_response):
    req = request_for(environ)
    _record("engineio", "engineio", environ, req.cookies, req.args)
    return _engineio_handle(environ, start_response)


def request_for(environ):
    from werkzeug.wrappers import Request

    return Request(environ)


sio.eio.handle_request = _recording_handle

application = socketio.WSGIApp(sio, app)

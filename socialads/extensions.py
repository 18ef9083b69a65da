"""Flask extensions shared by blueprints, bound to the app in ``create_app``."""

from flask.sessions import SecureCookieSessionInterface
from flask_wtf import CSRFProtect

csrf = CSRFProtect()


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened without building its signer when the request
    carries no session cookie. Flask opens a session for every Socket.IO event (each runs in
    a request context) and a viewer's socket never has one: building the signer each time
    cost ~5% of an ``act`` under load (py-spy, `make bench --profile`)."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

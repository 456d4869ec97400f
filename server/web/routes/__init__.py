"""One router per resource; `server.web.app.create_app` includes them all."""

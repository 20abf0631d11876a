"""The HTTP server of `mentorbot run`: both webhooks and `/healthz` in one ASGI app, plus the
runner that keeps the transports, the outbox and the scheduler alive."""

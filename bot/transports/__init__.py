"""Transports: turn a platform's payloads into `Inbound` and render `Outbound` back.

`simulate` and `console` run in the terminal; `telegram` and `whatsapp` speak to the platforms.
"""

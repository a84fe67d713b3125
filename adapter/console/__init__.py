"""The web console: support staff's reads and actions in a browser, through ``SupportDesk``.

Served by its own command (``vsb-adapter console``), off by default and on loopback by
default; users and roles come from a file (``adapter.console.users``).
"""

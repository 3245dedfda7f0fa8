"""Supervisor oversight: the audit log, message logs, analytics and configuration pages
(docs/supervision.md)."""

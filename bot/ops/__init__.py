"""Operating the service: package data, metrics, health, structured logs, backups."""

"""Fault tests: the whole system as processes, under a steady load over HTTP, while
real faults strike (SIGKILL, RabbitMQ stopped, PostgreSQL restarted, SMTP down)."""

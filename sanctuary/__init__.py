"""The operator's program: starting, stopping, backing up and auditing the system (the `sanctuary` command)."""

"""The operator's program: starting, backing up and auditing the system (`sanctuary`)."""

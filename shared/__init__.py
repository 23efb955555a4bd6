"""Code every Schools of Sanctuary service shares: store set-up, outbox relay,
idempotent consumption, the integration-event envelope, configuration."""

"""Plans, usage metering and Stripe billing."""

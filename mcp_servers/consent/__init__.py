"""The consent registry: which purposes each customer has consented to (keyed by customer_id)."""

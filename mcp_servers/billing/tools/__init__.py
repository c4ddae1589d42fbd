"""Tools added to the billing system (``switchboard new-tool``); found at start-up."""

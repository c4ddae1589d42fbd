"""Tools added to the network system (``switchboard new-tool``); found at start-up."""

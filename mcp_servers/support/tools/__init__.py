"""Tools added to the support system (``switchboard new-tool``); found at start-up."""

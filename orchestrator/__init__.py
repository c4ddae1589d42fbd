"""The control plane: supervisor, channels, consoles, governance gateway and the CLI."""

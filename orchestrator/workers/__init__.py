"""``switchboard up --workers N``: the embedded default spread over several processes.

The parent prepares the data directory once, binds every service's socket, and starts one
child process per group of services (``plan``); each child serves its services on the
sockets it inherited. See ``parent`` for the lifecycle (``ProcessStack``), ``child`` for one
process, and ``forking`` and ``zygote`` for how the children are started.

Importing this package imports none of them: ``switchboard up`` imports ``forking`` alone first,
to start the process that forks the children before it loads the rest.
"""

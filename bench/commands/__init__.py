"""`bench` subcommands, one module each."""

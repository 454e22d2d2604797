"""One module per CLI subcommand; each defines HELP, add_arguments(parser) and run(args)."""

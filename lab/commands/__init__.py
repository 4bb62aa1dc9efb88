"""One module per `speckle-lab` subcommand, each with `add_parser(subparsers)` and `run(args) -> int`."""

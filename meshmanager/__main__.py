from meshmanager.cli.main import cli

cli()

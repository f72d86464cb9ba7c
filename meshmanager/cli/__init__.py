"""The `meshmanager` command: run the service and administer its store."""

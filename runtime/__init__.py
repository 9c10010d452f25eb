"""What every process needs: settings, the Temporal connection, the payload codec and guard,
metrics, and the dev-server launcher."""

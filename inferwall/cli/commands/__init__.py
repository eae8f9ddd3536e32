"""One module per command. Each defines ``register(app)``; ``inferwall.cli.main`` discovers them."""

from inferwall.cli.main import run

run()

from inferwall.cli import run

run()

"""`python -m lecturegen_cli`: how `up --detach` starts the background supervisor."""

from lecturegen_cli.main import app

app(prog_name="lecturegen")

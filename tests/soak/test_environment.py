from pathlib import Path

from bench.soak.run import _environment


def test_walmart_delivers_the_webhooks_to_this_runs_web_server(tmp_path: Path):
    env = _environment(database_url="postgres://x/y", redis_url="redis://127.0.0.1:1/0", port=43210, workdir=tmp_path)
    assert env["PUBLIC_BASE_URL"] == "http://127.0.0.1:43210"
    assert env["WALMART_EMULATOR_BASE_URL"].startswith(env["PUBLIC_BASE_URL"] + "/")

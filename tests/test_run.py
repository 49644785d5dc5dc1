"""The newcomer's command: `python run.py` on an empty instance folder migrates, seeds, creates the admin once,
serves the Chinese login page, and keeps everything on restart."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env(instance: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "ADMIN_PASSWORD")}
    env.update(INSTANCE_DIR=str(instance), PYTHONPATH=str(ROOT), **extra)
    return env


def _run(instance: Path, *args, **extra) -> str:
    out = subprocess.run(
        [sys.executable, "run.py", *args],
        cwd=ROOT,
        env=_env(instance, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_first_start_then_restart_keeps_data(tmp_path):
    first = _run(tmp_path, "--no-serve", "--demo")
    assert "初始密码 password:" in first
    db = tmp_path / "sales.db"
    assert db.exists() and (tmp_path / "secret_key").exists()
    counts = {t: _count(db, t) for t in ("ab_user", "product", "region", "unit", "ab_role", "ab_permission_view_role")}
    assert counts["product"] >= 15 and counts["ab_role"] >= 8
    key = (tmp_path / "secret_key").read_text()

    second = _run(tmp_path, "--no-serve", "--demo")
    assert "初始密码" not in second, "the admin password is printed only once"
    assert {t: _count(db, t) for t in counts} == counts
    assert (tmp_path / "secret_key").read_text() == key


def test_admin_password_from_environment(tmp_path):
    out = _run(tmp_path, "--no-serve", ADMIN_PASSWORD="Env-Passw0rd!")
    assert "初始密码" not in out
    from werkzeug.security import check_password_hash

    with sqlite3.connect(tmp_path / "sales.db") as conn:
        (hashed,) = conn.execute("SELECT password FROM ab_user WHERE username='admin'").fetchone()
    assert check_password_hash(hashed, "Env-Passw0rd!")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serves_chinese_login_page(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "run.py"],
        cwd=ROOT,
        env=_env(tmp_path, PORT=str(port), HOST="127.0.0.1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 120
        html = None
        while time.time() < deadline and html is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as resp:
                    html = resp.read().decode()
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stdout.read()) from None
                time.sleep(0.5)
        assert html is not None, "server did not answer"
        assert "销售管理系统" in html and "用户名" in html
    finally:
        proc.terminate()
        proc.wait(timeout=30)

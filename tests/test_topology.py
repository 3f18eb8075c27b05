"""docker-compose.yml and scripts/stack (deploy/processes.yaml) define the same topology.

Compose is what operators deploy and has never run here; scripts/stack runs the
same services on one machine and the end-to-end tests (tests/stack/) run those.
So the two must not drift: the same services, the same commands, the same
environment variable names with the same values, except the few that differ by
nature (addresses, paths, secrets, TLS), and those are checked for what must
still hold (nginx is the trusted proxy, gunicorn is where nginx sends requests,
static and media are where nginx serves them from).
"""

import ipaddress
import json
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

from deploy import stack

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"db", "redis", "migrate", "web", "worker", "beat", "nginx"}
APP_SERVICES = {"migrate", "web", "worker", "beat"}
# Variables whose values differ between the two topologies by nature; each has its own test.
TOPOLOGY_SPECIFIC = {
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "SITE_URL",
    "TRUSTED_PROXIES",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "GUNICORN_BIND",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
}
_DEFAULT = re.compile(r"^\$\{[A-Z_]+:-(.*)\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


@pytest.fixture(scope="module")
def declared() -> dict:
    return stack.definition()


def _matches(declared_args: list[str], compose_args: list[str]) -> bool:
    """Whether compose's argv is the stack's, a ``{fact}`` of the stack standing for any text."""
    if len(declared_args) != len(compose_args):
        return False
    for pattern, arg in zip(declared_args, compose_args, strict=True):
        parts = re.split(r"\{[a-z_]+\}", str(pattern))
        if not re.fullmatch(".+".join(re.escape(part) for part in parts), arg):
            return False
    return True


def _default(value: str) -> str:
    """The value compose uses when the variable is not set: ``${X:-172.30.80.10}`` → 172.30.80.10."""
    match = _DEFAULT.match(value)
    return match.group(1) if match else value


def test_both_define_the_same_services(compose, declared):
    assert set(compose) == SERVICES
    assert set(declared["services"]) == SERVICES
    assert {name for name, service in declared["services"].items() if service.get("app")} == APP_SERVICES


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_the_long_running_app_services_run_the_same_command(compose, declared, name):
    assert _matches(declared["services"][name]["command"], compose[name]["command"]), (
        f"{name}: compose runs {compose[name]['command']}, "
        f"deploy/processes.yaml {declared['services'][name]['command']}"
    )


def test_the_migrate_job_runs_the_same_steps(compose, declared):
    shell, flag, script = compose["migrate"]["command"].split(maxsplit=2)
    assert (shell, flag) == ("sh", "-c")
    steps = [shlex.split(step) for step in shlex.split(script)[0].split("&&")]
    assert steps == declared["services"]["migrate"]["once"]


def test_the_image_starts_gunicorn_as_compose_does(compose):
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd = [line for line in dockerfile.splitlines() if line.startswith("CMD ")][-1]
    assert json.loads(cmd.removeprefix("CMD ")) == compose["web"]["command"]


def test_redis_keeps_its_data_in_both(compose, declared):
    compose_args = compose["redis"]["command"][1:]
    declared_args = declared["services"]["redis"]["command"][1:]
    options = list(zip(compose_args[::2], compose_args[1::2], strict=True))
    assert ("--appendonly", "yes") in options
    for option, value in options:
        assert option in declared_args and declared_args[declared_args.index(option) + 1] == value


def test_every_app_service_gets_the_same_variables(compose, declared):
    environment = declared["environment"]
    for name in APP_SERVICES:
        assert set(compose[name]["environment"]) == set(environment), name
    shared = set(environment) - TOPOLOGY_SPECIFIC
    differing = {
        name: (compose["web"]["environment"][name], environment[name])
        for name in shared
        if compose["web"]["environment"][name] != environment[name]
    }
    assert not differing, f"compose and deploy/processes.yaml disagree (compose, stack): {differing}"
    assert environment["DEBUG"] == "0"


def test_nginx_is_the_only_trusted_proxy_in_both(compose, declared):
    compose_env = compose["web"]["environment"]
    nginx_address = compose["nginx"]["networks"]["default"]["ipv4_address"]
    assert compose_env["TRUSTED_PROXIES"] == nginx_address
    subnet = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["networks"]["default"]
    network = ipaddress.ip_network(_default(subnet["ipam"]["config"][0]["subnet"]))
    assert ipaddress.ip_address(_default(nginx_address)) in network

    # In the stack nginx reaches gunicorn over loopback, and gunicorn listens on loopback only.
    environment = declared["environment"]
    assert environment["TRUSTED_PROXIES"] == "127.0.0.1"
    assert environment["GUNICORN_BIND"].startswith("127.0.0.1:")


def test_nginx_sends_requests_where_gunicorn_listens(compose, declared):
    web_port = compose["web"]["environment"]["GUNICORN_BIND"].split(":")[1]
    assert compose["nginx"]["environment"]["NGINX_UPSTREAM"] == f"web:{web_port}"
    stack_nginx = declared["services"]["nginx"]["environment"]
    assert stack_nginx["NGINX_UPSTREAM"] == declared["environment"]["GUNICORN_BIND"]
    # Only nginx is published; the stack's listens on loopback.
    assert compose["nginx"]["ports"] == ["80:80"]
    assert all("ports" not in compose[name] for name in SERVICES - {"nginx"})
    assert stack_nginx["NGINX_LISTEN"].startswith("127.0.0.1:")


def test_nginx_serves_static_and_media_from_where_the_app_writes_them(compose, declared):
    for root in ("STATIC_ROOT", "MEDIA_ROOT"):
        assert compose["nginx"]["environment"][root] == compose["web"]["environment"][root]
        assert declared["services"]["nginx"]["environment"][root] == declared["environment"][root]
        path = compose["web"]["environment"][root]
        app_volume = next(v for v in compose["web"]["volumes"] if v.endswith(":" + path))
        assert f"{app_volume}:ro" in compose["nginx"]["volumes"]


def test_both_fill_in_the_same_nginx_template(compose, declared):
    template = declared["services"]["nginx"]["template"]
    assert f"./{template}:/etc/nginx/templates/nginx.conf.template:ro" in compose["nginx"]["volumes"]
    placeholders = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", (ROOT / template).read_text(encoding="utf-8")))
    assert set(declared["services"]["nginx"]["environment"]) == placeholders
    assert set(compose["nginx"]["environment"]) == placeholders


def test_both_run_debian_s_nginx_with_its_brotli_module(compose):
    """compose builds the packages scripts/stack installs, so the tested nginx is the deployed one."""
    build = compose["nginx"]["build"]
    dockerfile = (ROOT / build["context"] / build["dockerfile"]).read_text(encoding="utf-8")
    packages = {"nginx", "libnginx-mod-http-brotli-static"}
    assert re.search(r"^FROM debian:bookworm", dockerfile, re.M)
    assert packages <= set(re.search(r"apt-get install (.*)", dockerfile).group(1).split())
    ensured = (ROOT / "scripts" / "_services.sh").read_text(encoding="utf-8")
    assert all(f"missing+=({package})" in ensured for package in packages)
    template = (ROOT / "deploy" / "nginx.conf.template").read_text(encoding="utf-8")
    module = re.search(r"^load_module (\S+);", template, re.M).group(1)
    assert f"[ -f {module} ]" in ensured


def _start_nginx_as_compose_does(tmp_path: Path, environ: dict[str, str], *args: str):
    return subprocess.run(  # noqa: S603 - fixed argv
        [ROOT / "deploy" / "nginx-start.sh", *args],
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "NGINX_TEMPLATE": str(ROOT / "deploy" / "nginx.conf.template"),
            "NGINX_CONF": str(tmp_path / "nginx.conf"),
            **environ,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_compose_s_nginx_fills_in_the_template_as_the_stack_does_and_nginx_accepts_it(tmp_path, declared):
    facts = {"stack": str(tmp_path), "port": "18080", "web_port": "18001"}
    values = {
        name: stack.fill(str(value), facts=facts, environ={})
        for name, value in declared["services"]["nginx"]["environment"].items()
    }
    # `-t`: nginx reads the filled-in file, loads the brotli module and checks it all.
    started = _start_nginx_as_compose_does(tmp_path, values, "-t")
    assert started.returncode == 0, started.stderr
    assert "test is successful" in started.stderr
    assert (tmp_path / "nginx.conf").read_text(encoding="utf-8") == stack.nginx_render(facts=facts)


def test_compose_s_nginx_refuses_to_start_without_a_value_of_its_template(tmp_path, compose):
    values = {name: str(value) for name, value in compose["nginx"]["environment"].items()}
    del values["STATIC_ROOT"]
    started = _start_nginx_as_compose_does(tmp_path, values, "-t")
    assert started.returncode == 1
    assert "STATIC_ROOT is not set" in started.stderr
    assert not (tmp_path / "nginx.conf").exists()


def test_the_stack_serves_plain_http_and_compose_keeps_the_secure_defaults(compose, declared):
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        assert compose["web"]["environment"][name] is None, f"{name}: compose passes it on only when set"
        assert declared["environment"][name] == "0"


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def test_nginx_body_limits_leave_room_for_the_apps_own():
    template = (ROOT / "deploy" / "nginx.conf.template").read_text(encoding="utf-8")
    public = _size(re.search(r"^    client_max_body_size (\S+);", template, re.M).group(1))
    admin_block = template[template.index("location /admin/") :]
    admin = _size(re.search(r"client_max_body_size (\S+);", admin_block).group(1))
    # The app answers bodies just over its limit itself (413 with a message); nginx stops larger ones.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < public <= 4 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert admin > settings.FILE_UPLOAD_MAX_MEMORY_SIZE


def test_the_stack_fills_in_every_value_it_declares(declared):
    facts = {
        "stack": "/srv/stack",
        "port": "8080",
        "web_port": "8001",
        "pg_port": "5433",
        "redis_port": "6380",
        "pg_bin": "/usr/lib/postgresql/15/bin",
        "secret_key": "s3cret",
        "postgres_password": "pw",
    }
    environment = stack.app_environment(facts=facts, environ={"SMS_API_URL": "https://sms.example"})
    assert environment["DATABASE_URL"] == "postgres://portal:pw@127.0.0.1:5433/portal"
    assert environment["SITE_URL"] == "http://127.0.0.1:8080"
    assert environment["EMAIL_PORT"] == "587"
    assert environment["SMS_API_URL"] == "https://sms.example"
    assert "SMS_API_KEY" not in environment  # declared without a value and not set: not passed on
    assert urlsplit(environment["REDIS_URL"]).port == 6380
    supervised = stack.supervisord_render(
        services=["db", "redis", "web", "worker", "beat", "nginx"], facts=facts, state_dir=Path("/srv/stack")
    )
    # Stores up first and down last; nginx stops taking requests before web stops.
    groups = re.findall(r"^\[group:(\w+)\]\nprograms=(\S+)\npriority=(\d+)", supervised, re.M)
    assert [(name, programs) for name, programs, _priority in groups] == [
        ("stores", "db,redis"),
        ("app", "web,worker,beat"),
        ("front", "nginx"),
    ]
    assert [int(priority) for *_, priority in groups] == sorted(int(priority) for *_, priority in groups)
    assert f"command={stack.ROOT}/.venv/bin/gunicorn -c gunicorn.conf.py portal.wsgi" in supervised
    rendered = stack.nginx_render(facts=facts)
    assert "listen 127.0.0.1:8080;" in rendered
    assert "server 127.0.0.1:8001;" in rendered
    assert "alias /srv/stack/static/;" in rendered
    assert not re.search(r"\$\{[A-Z_]+\}", rendered)

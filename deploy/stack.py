"""The one-machine production stack, from its declaration in deploy/processes.yaml.

scripts/stack and the end-to-end tests (tests/stack/) both start the stack
through this module, so the tests run what operators run:

- ``app_environment``: the environment of the app processes (migrate, web,
  worker, beat), with the same names as docker-compose.yml passes;
- ``nginx_render``: deploy/nginx.conf.template with this stack's values, filled
  in as deploy/nginx-start.sh fills it in compose's nginx;
- ``supervisord_render``: a supervisord configuration running the chosen
  services, each restarted when it exits, each logging to ``logs/<name>.log``.

The command line (``python -m deploy.stack render|migrate``) is scripts/stack's.
It keeps the stack's generated secrets and its ports in the stack folder.
"""

import argparse
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
PROCESSES = DEPLOY / "processes.yaml"
# Commands that run from the project's virtualenv.
VENV_COMMANDS = frozenset({"python", "gunicorn", "celery"})

# {name}: a fact of this stack (lower case, not after "$").
_FACT = re.compile(r"(?<!\$)\{([a-z_]+)\}")
# ${NAME}, ${NAME:-default}, ${NAME:?message}: from the environment, as compose reads them.
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}")
# ${NAME} in the nginx template; $lower_case is nginx's own.
_TEMPLATE_VALUE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class StackError(Exception):
    """A value the stack needs is missing; the message says which."""


def definition(path: Path = PROCESSES) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def fill(text: str, *, facts: Mapping[str, str], environ: Mapping[str, str]) -> str:
    """``text`` with its ``{facts}`` and then its ``${VARIABLES}`` filled in."""

    def fact(match: re.Match) -> str:
        name = match.group(1)
        if name not in facts:
            raise StackError(f"{text!r} needs the stack fact {{{name}}}")
        return str(facts[name])

    def variable(match: re.Match) -> str:
        name, operator, argument = match.groups()
        value = environ.get(name, "")
        if operator == ":-":
            return value or argument
        if operator == ":?" and not value:
            raise StackError(f"{name}: {argument}")
        return value

    return _VARIABLE.sub(variable, _FACT.sub(fact, text))


def app_environment(*, facts: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The app processes' variables. A name declared without a value is passed on only if set."""
    result = {}
    for name, value in definition()["environment"].items():
        if value is None:
            if name in environ:
                result[name] = environ[name]
        else:
            result[name] = fill(str(value), facts=facts, environ=environ)
    return result


def command(argv: Iterable[str], *, facts: Mapping[str, str]) -> list[str]:
    args = [fill(str(arg), facts=facts, environ={}) for arg in argv]
    if args[0] in VENV_COMMANDS:
        args[0] = str(ROOT / ".venv" / "bin" / args[0])
    return args


def nginx_render(*, facts: Mapping[str, str]) -> str:
    nginx = definition()["services"]["nginx"]
    values = {name: fill(str(value), facts=facts, environ={}) for name, value in nginx["environment"].items()}
    template = (ROOT / nginx["template"]).read_text(encoding="utf-8")
    missing = sorted(set(_TEMPLATE_VALUE.findall(template)) - set(values))
    if missing:
        raise StackError(f"{nginx['template']} needs {', '.join(missing)}")
    return _TEMPLATE_VALUE.sub(lambda match: values[match.group(1)], template)


def _ini(value: object) -> str:
    # supervisord expands %(name)s in its values: a literal % is written %%.
    return str(value).replace("%", "%%")


def program_name(service: str) -> str:
    """supervisorctl's name for a service: ``app:worker``."""
    group = next(name for name, members in definition()["groups"].items() if service in members)
    return f"{group}:{service}"


def _program(name: str, service: dict, *, facts: Mapping[str, str], state_dir: Path) -> list[str]:
    if "command" not in service:
        raise StackError(f"service {name} runs once, not under the supervisor")
    log = state_dir / "logs" / f"{name}.log"
    return [
        "",
        f"[program:{name}]",
        # supervisord splits `command` with shlex.split.
        f"command={_ini(shlex.join(command(service['command'], facts=facts)))}",
        f"directory={_ini(ROOT)}",
        "autorestart=true",
        # Up for 3 s counts as started; a program that dies sooner 3 times running
        # is left stopped (FATAL in the log) rather than restarted in a tight loop.
        "startsecs=3",
        "startretries=3",
        f"stopsignal={service.get('stop_signal', 'TERM')}",
        f"stopwaitsecs={service.get('stop_wait', 10)}",
        "stopasgroup=false",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={_ini(log)}",
        "stdout_logfile_maxbytes=10MB",
        "stdout_logfile_backups=3",
    ]


def supervisord_render(
    *,
    services: Iterable[str],
    facts: Mapping[str, str],
    state_dir: Path,
    autostart: Iterable[str] = (),
    users: Mapping[str, str] | None = None,
) -> str:
    """A supervisord configuration running ``services`` (logs in ``state_dir/logs``).

    Each program is restarted whenever it exits. The groups of
    deploy/processes.yaml start in their order and stop in the reverse one,
    the programs of a group together; supervisorctl names a program
    ``group:service`` (``program_name``). A stop signals the program's main
    process only (gunicorn, Celery, nginx and PostgreSQL each stop their own
    children gracefully); whatever is left after ``stop_wait`` seconds is killed
    with its whole process group, so nothing outlives the stack.
    """
    logs, run = state_dir / "logs", state_dir / "run"
    started = set(autostart)
    lines = [
        "; Written by deploy/stack.py from deploy/processes.yaml: edit those, not this.",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={_ini(logs / 'supervisord.log')}",
        f"pidfile={_ini(run / 'supervisord.pid')}",
        f"childlogdir={_ini(logs)}",
        f"directory={_ini(ROOT)}",
        "",
        "[unix_http_server]",
        f"file={_ini(run / 'supervisor.sock')}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_ini(run / 'supervisor.sock')}",
    ]
    topology = definition()
    wanted = list(services)
    for priority, (group, members) in enumerate(topology["groups"].items(), start=1):
        chosen = [name for name in members if name in wanted]
        if not chosen:
            continue
        lines += ["", f"[group:{group}]", f"programs={','.join(chosen)}", f"priority={priority * 10}"]
        for name in chosen:
            lines += _program(name, topology["services"][name], facts=facts, state_dir=state_dir)
            lines.append(f"autostart={'true' if name in started else 'false'}")
            if users and name in users:
                lines.append(f"user={users[name]}")
    unknown = set(wanted) - {name for members in topology["groups"].values() for name in members}
    if unknown:
        raise StackError(f"not in any group of deploy/processes.yaml: {', '.join(sorted(unknown))}")
    return "\n".join(lines) + "\n"


# --- scripts/stack's command line -------------------------------------------------


def _secret(path: Path) -> str:
    """The secret kept in ``path``, made on first use (readable by the owner only)."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _facts_path(state_dir: Path) -> Path:
    return state_dir / "run" / "facts.json"


def _render(args: argparse.Namespace) -> None:
    state_dir = args.stack_dir
    facts = {
        "stack": str(state_dir),
        "port": args.port,
        "web_port": args.web_port,
        "pg_port": args.pg_port,
        "redis_port": args.redis_port,
        "pg_bin": args.pg_bin,
        "secret_key": _secret(state_dir / "secret_key"),
        "postgres_password": _secret(state_dir / "postgres_password"),
    }
    environment = app_environment(facts=facts, environ=os.environ)  # fails early on a missing value
    users = {"db": "postgres"} if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
    services = ["db", "redis", "web", "worker", "beat", "nginx"]
    (state_dir / "run" / "supervisord.conf").write_text(
        supervisord_render(
            services=services, facts=facts, state_dir=state_dir, autostart=["db", "redis"], users=users
        ),
        encoding="utf-8",
    )
    (state_dir / "nginx" / "nginx.conf").write_text(nginx_render(facts=facts), encoding="utf-8")
    facts_file = _facts_path(state_dir)
    facts_file.touch(mode=0o600)
    facts_file.write_text(json.dumps(facts), encoding="utf-8")
    # For an operator's own manage.py commands: `set -a; . .stack/run/env`.
    env_file = state_dir / "run" / "env"
    env_file.touch(mode=0o600)
    env_file.write_text(
        "".join(f"{name}={shlex.quote(value)}\n" for name, value in environment.items()), encoding="utf-8"
    )


def _migrate(args: argparse.Namespace) -> int:
    """The one-off step before web, worker and beat start; its output also goes to logs/migrate.log."""
    state_dir = args.stack_dir
    facts = json.loads(_facts_path(state_dir).read_text(encoding="utf-8"))
    environment = {**os.environ, **app_environment(facts=facts, environ=os.environ)}
    with (state_dir / "logs" / "migrate.log").open("ab") as log:
        for argv in definition()["services"]["migrate"]["once"]:
            log.write(f"$ {shlex.join(argv)}\n".encode())
            log.flush()
            process = subprocess.Popen(  # noqa: S603 - the commands of deploy/processes.yaml
                command(argv, facts=facts),
                cwd=ROOT,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for line in process.stdout:
                log.write(line)
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
            if process.wait():
                return process.returncode
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    render = commands.add_parser("render", help="write the stack's supervisord.conf, nginx.conf and env")
    render.add_argument("--stack-dir", type=Path, required=True)
    for option in ("port", "web-port", "pg-port", "redis-port", "pg-bin"):
        render.add_argument(f"--{option}", required=True)
    migrate = commands.add_parser("migrate", help="run the migrate service's commands once")
    migrate.add_argument("--stack-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    args.stack_dir = args.stack_dir.resolve()
    try:
        if args.action == "render":
            _render(args)
            return 0
        return _migrate(args)
    except StackError as error:
        print(f"FAIL: {error}", file=sys.stderr)  # noqa: T201
        return 1


if __name__ == "__main__":
    sys.exit(main())
